import "server-only";
import crypto from "node:crypto";
import type { AppConfig } from "@/lib/config";
import { withService } from "@/lib/db/client";
import { pgErrorToAppError } from "@/lib/db/errors";
import { recordSystemAudit } from "@/lib/db/queries/audit";
import { addFailure, clearFailures, failureCounts, pruneFailures } from "@/lib/db/queries/sign-in-failures";
import { findUserByEmail, insertLocalUser, touchLastSignIn } from "@/lib/db/queries/users";
import type { Database } from "@/lib/db/types";
import { ERRORS } from "@/lib/errors";
import type { SignInInput, SignUpInput } from "@/lib/validations/auth";
import type { RequestMeta } from "./principal";
import { hashPassword, verifyPassword } from "./password";
import { SESSION_TTL_SECONDS, sessionSecret, signSessionToken } from "./session-token";
import { allKeys, enterAttempt, THROTTLE_WINDOW_SECONDS, throttleDelay, throttleKeys } from "./throttle";

// The local provider plays the part Supabase Auth plays in supabase mode: it alone reads and writes
// auth.users (through the owner connection, like GoTrue's own role). It never serves model data.

export interface LocalUser {
  id: string;
  email: string;
}

/** Creates a user (uuid id, scrypt hash). A taken e-mail is a conflict. */
export async function signUpLocal(
  db: Database,
  input: Pick<SignUpInput, "email" | "password"> & { displayName?: string },
  meta: RequestMeta = {},
): Promise<LocalUser> {
  const passwordHash = await hashPassword(input.password);
  try {
    return await withService(db, async (tx) => {
      const user = await insertLocalUser(tx, {
        id: crypto.randomUUID(),
        email: input.email,
        passwordHash,
        meta: input.displayName ? { display_name: input.displayName } : {},
      });
      if (!user) throw ERRORS.emailTaken();
      await recordSystemAudit(tx, {
        orgId: null,
        actorId: user.id,
        actorEmail: user.email,
        action: "auth.sign_up",
        target: ["user", user.id],
        meta,
      });
      return user;
    });
  } catch (e) {
    // Two sign-ups racing for one address: the unique index decides.
    throw pgErrorToAppError(e, { conflict: ERRORS.emailTaken().message });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Checks e-mail and password and returns a signed session token. Failures slow later attempts down
 * (lib/auth/throttle.ts: per e-mail and address, per e-mail, per address — never a lock), and are
 * answered with one message whether the e-mail exists or not.
 */
export async function signInLocal(
  db: Database,
  config: Pick<AppConfig, "authSecret" | "dataDir">,
  input: SignInInput,
  meta: RequestMeta = {},
): Promise<{ user: LocalUser; accessToken: string; expiresIn: number }> {
  const keys = throttleKeys(input.email, meta.ip);
  const release = enterAttempt(keys);
  try {
    const counts = await withService(db, (tx) => failureCounts(tx, allKeys(keys), THROTTLE_WINDOW_SECONDS));
    const delay = throttleDelay(keys, new Map(counts.map((c) => [c.key, c.failures])));
    if (delay) await sleep(delay);

    const user = await withService(db, (tx) => findUserByEmail(tx, input.email));
    const ok = (await verifyPassword(input.password, user?.encrypted_password)) && Boolean(user);
    await withService(db, async (tx) => {
      await recordSystemAudit(tx, {
        orgId: null,
        actorId: user?.id ?? null,
        actorEmail: input.email,
        action: ok ? "auth.sign_in" : "auth.sign_in_failed",
        target: user ? ["user", user.id] : undefined,
        meta,
      });
      if (ok && user) {
        await touchLastSignIn(tx, user.id);
        await clearFailures(tx, [keys.pair]);
      } else {
        await addFailure(tx, allKeys(keys), THROTTLE_WINDOW_SECONDS);
        if (Math.random() < 0.01) await pruneFailures(tx, THROTTLE_WINDOW_SECONDS);
      }
    });
    if (!ok || !user) throw ERRORS.wrongCredentials();
    const accessToken = await signSessionToken(user, SESSION_TTL_SECONDS, sessionSecret(config));
    return { user: { id: user.id, email: user.email }, accessToken, expiresIn: SESSION_TTL_SECONDS };
  } finally {
    release();
  }
}
