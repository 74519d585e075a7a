import "server-only";
import { createClient } from "@supabase/supabase-js";
import { getConfig } from "@/lib/config";
import { AppError } from "@/lib/errors";

/** Signs in against Supabase Auth (supabase mode) and returns its access token for API use. */
export async function signInWithSupabase(input: { email: string; password: string }) {
  const cfg = getConfig().supabase;
  if (!cfg) throw new AppError("unavailable", "Supabase is not configured.");
  const supabase = createClient(cfg.url, cfg.anonKey, { auth: { persistSession: false, autoRefreshToken: false } });
  const { data, error } = await supabase.auth.signInWithPassword(input);
  if (error || !data.session) throw new AppError("unauthorized", "Wrong e-mail address or password.");
  return {
    access_token: data.session.access_token,
    token_type: "bearer",
    expires_in: data.session.expires_in,
    user: { id: data.user.id, email: data.user.email },
  };
}
