// What the global setup hands to every lane test (vitest provide/inject).
import type { PushResult } from "../../../scripts/supabase-lane/hosted-db";
import type { LaneUser } from "./tokens";

export type LaneRole = "owner" | "admin" | "member" | "viewer" | "otherOwner";

export interface LaneContext {
  /** The app under test (next start in supabase mode). */
  appUrl: string;
  appLog: string;
  /** The app server's process (npm bench reads its memory). */
  appPid: number;
  /** The gateway in front of the Storage server: <storageBase>/storage/v1/… */
  storageBase: string;
  anonKey: string;
  serviceKey: string;
  jwtSecret: string;
  /** Issuer of access tokens (<SUPABASE_URL>/auth/v1). */
  issuer: string;
  superDbUrl: string;
  hostedDbUrl: string;
  hostedRole: string;
  bucket: string;
  /** Unique per run: org slugs and e-mails carry it, so runs never collide. */
  run: string;
  orgA: { id: string; slug: string };
  orgB: { id: string; slug: string };
  users: Record<LaneRole, LaneUser>;
  /** `supabase db push` as the hosted-postgres stand-in, in the shapes tried. */
  install: { bypassrls: PushResult; noBypassrls: PushResult; emulatedPolicyGrants?: PushResult; policiesByHand?: boolean };
}

declare module "vitest" {
  export interface ProvidedContext {
    lane: LaneContext | null;
  }
}
