import type { SupabaseClientOptions } from "@supabase/supabase-js";
import WebSocket from "ws";

type RealtimeTransport = NonNullable<SupabaseClientOptions<"public">["realtime"]>["transport"];

/**
 * IMPORTANT: supabase-js builds its realtime client eagerly, and Node 20 has no WebSocket of its own
 * ("Node.js 20 detected without native WebSocket support"). Every client made on the server — the
 * three @supabase/ssr factories' server and proxy ones included — passes `ws` as the transport.
 */
export const REALTIME_OPTIONS = { transport: WebSocket as unknown as RealtimeTransport };
