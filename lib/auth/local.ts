import "server-only";
import crypto from "node:crypto";
import { withService } from "@/lib/db/client";
import type { Database } from "@/lib/db/types";
import { AppError } from "@/lib/errors";
import { hashPassword, verifyPassword } from "./password";
import { signSessionToken } from "./session-token";
import { checkThrottle, recordFailure, recordSuccess } from "./throttle";

// The local provider plays the part Supabase Auth plays in supabase mode: it alone reads and writes
// auth.users (through the owner connection, like GoTrue's own role). It never serves model data.

export interface LocalUser {
  id: string;
  email: string;
}

/** Creates a user (uuid id, scrypt hash). A taken e-mail is a conflict. */
export async function signUpLocal(input: { email: string; password: string; displayName?: string }, db?: Database): Promise<LocalUser> {
  const hash = await hashPassword(input.password);
  const id = crypto.randomUUID();
  return withService(async (tx) => {
    const { rows } = await tx.query<LocalUser>(
      `insert into auth.users (id, email, encrypted_password, raw_user_meta_data, email_confirmed_at)
       values ($1, $2, $3, $4, now()) on conflict (email) do nothing returning id, email`,
      [id, input.email, hash, JSON.stringify(input.displayName ? { display_name: input.displayName } : {})],
    );
    if (!rows[0])
      throw new AppError("conflict", "An account with this e-mail address already exists.", { fields: { email: "Already registered." } });
    await tx.query(
      `insert into public.audit_events (org_id, actor_id, actor_email, via, action, target_type, target_id)
       values (null, $1::uuid, $2, 'system', 'auth.sign_up', 'user', $1::text)`,
      [id, input.email],
    );
    return rows[0];
  }, db);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Checks e-mail and password and returns a signed session token. Failures are slowed down per
 * e-mail and per client address, and answered with one message whether the e-mail exists or not.
 */
export async function signInLocal(
  input: { email: string; password: string; ip?: string; userAgent?: string },
  db?: Database,
): Promise<{ user: LocalUser; accessToken: string; expiresIn: number }> {
  const keys = [`email:${input.email}`, ...(input.ip ? [`ip:${input.ip}`] : [])];
  const gate = checkThrottle(keys);
  if (gate.retryAfterS) {
    throw new AppError("rate_limited", `Too many failed sign-ins. Try again in ${Math.ceil(gate.retryAfterS / 60)} minutes.`, {
      retryAfterSeconds: gate.retryAfterS,
    });
  }
  if (gate.delayMs) await sleep(gate.delayMs);

  const user = await withService(async (tx) => {
    const { rows } = await tx.query<{ id: string; email: string; encrypted_password: string | null }>(
      "select id, email, encrypted_password from auth.users where email = $1",
      [input.email],
    );
    return rows[0];
  }, db);
  const ok = await verifyPassword(input.password, user?.encrypted_password);
  await withService(async (tx) => {
    await tx.query(
      `insert into public.audit_events (org_id, actor_id, actor_email, via, action, target_type, target_id, ip, user_agent)
       values (null, $1::uuid, $2, 'system', $3, 'user', $1::text, $4, $5)`,
      [
        user?.id ?? null,
        input.email,
        ok && user ? "auth.sign_in" : "auth.sign_in_failed",
        input.ip ?? null,
        input.userAgent?.slice(0, 512) ?? null,
      ],
    );
    if (ok && user) await tx.query("update auth.users set last_sign_in_at = now() where id = $1", [user.id]);
  }, db);
  if (!ok || !user) {
    recordFailure(keys);
    throw new AppError("unauthorized", "Wrong e-mail address or password.");
  }
  recordSuccess(keys);
  const accessToken = await signSessionToken(user);
  return { user: { id: user.id, email: user.email }, accessToken, expiresIn: 8 * 3600 };
}
