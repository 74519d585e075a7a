import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { withService } from "@/lib/db/client";
import { addFailure } from "@/lib/db/queries/sign-in-failures";
import { signInLocal, signUpLocal } from "./local";
import { allKeys, THROTTLE_WINDOW_SECONDS, throttleKeys } from "./throttle";
import { verifySessionToken } from "./session-token";

const AUTH = { authSecret: "x".repeat(48), dataDir: "/nonexistent" };
const secret = new TextEncoder().encode(AUTH.authSecret);

describe.each(DB_KINDS)("local auth on %s", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it("signs up, signs in with a Supabase-shaped session, and audits both", async () => {
    const email = `${kind}-user@example.test`;
    const user = await signUpLocal(t.db, { email, password: "correct horse battery" });
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
    await expect(signUpLocal(t.db, { email, password: "another password" })).rejects.toMatchObject({ code: "conflict" });
    const { accessToken } = await signInLocal(t.db, AUTH, { email, password: "correct horse battery" }, { ip: "1.2.3.4" });
    const claims = await verifySessionToken(accessToken, secret);
    expect(claims).toMatchObject({ sub: user.id, email, role: "authenticated", aud: "authenticated" });
    expect(claims.exp! - Math.floor(Date.now() / 1000)).toBeGreaterThan(3600);
    const { rows } = await t.db.query<{ action: string }>("select action from public.audit_events where actor_email = $1 order by id", [
      email,
    ]);
    expect(rows.map((r) => r.action)).toEqual(["auth.sign_up", "auth.sign_in"]);
    const { rows: stored } = await t.db.query<{ encrypted_password: string }>(
      "select encrypted_password from auth.users where email = $1",
      [email],
    );
    expect(stored[0]!.encrypted_password).toMatch(/^scrypt\$/);
  });

  it("answers a wrong password and an unknown e-mail alike, and slows repeated failures down", async () => {
    const email = `${kind}-slow@example.test`;
    await signUpLocal(t.db, { email, password: "correct horse battery" });
    const fail = (e: string): Promise<AppError> =>
      signInLocal(t.db, AUTH, { email: e, password: "wrong password" }, { ip: "5.6.7.8" }).then(
        () => {
          throw new Error("signed in with a wrong password");
        },
        (err: AppError) => err,
      );
    const wrong = await fail(email);
    const unknown = await fail(`nobody-${kind}@example.test`);
    expect([wrong.code, wrong.message]).toEqual([unknown.code, unknown.message]);
    expect(wrong.code).toBe("unauthorized");
    await fail(email);
    await fail(email);
    const t0 = Date.now();
    await fail(email); // the 4th failure from this address for this e-mail waits first
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
    const { rows } = await t.db.query<{ n: number }>(
      "select count(*)::int as n from public.audit_events where action = 'auth.sign_in_failed' and actor_email = $1",
      [email],
    );
    expect(rows[0]!.n).toBe(4);
  });

  it("never locks the owner out: after many failures the right password still works, and other addresses are barely slowed", async () => {
    const email = `${kind}-victim@example.test`;
    await signUpLocal(t.db, { email, password: "correct horse battery" });
    for (let i = 0; i < 12; i++) {
      // An attacker's failures, recorded the way signInLocal records them (without waiting each time).
      await withService(t.db, (tx) => addFailure(tx, allKeys(throttleKeys(email, "203.0.113.9")), THROTTLE_WINDOW_SECONDS));
    }
    const t0 = Date.now();
    const { user } = await signInLocal(t.db, AUTH, { email, password: "correct horse battery" }, { ip: "198.51.100.7" });
    expect(user.email).toBe(email);
    expect(Date.now() - t0).toBeLessThan(4000); // the per-e-mail wait is capped at 2 s
    // From the attacker's own address the wait is longer, but the right password still works there too.
    const { user: again } = await signInLocal(t.db, AUTH, { email, password: "correct horse battery" }, { ip: "203.0.113.9" });
    expect(again.email).toBe(email);
  });

  it("lets one attempt per e-mail and address run at a time (parallel guesses do not multiply the rate)", async () => {
    const email = `${kind}-parallel@example.test`;
    await signUpLocal(t.db, { email, password: "correct horse battery" });
    const tries = await Promise.allSettled(
      Array.from({ length: 5 }, () => signInLocal(t.db, AUTH, { email, password: "wrong password" }, { ip: "192.0.2.44" })),
    );
    const codes = tries.map((r) => (r.status === "rejected" ? (r.reason as AppError).code : "ok"));
    expect(codes.filter((c) => c === "rate_limited").length).toBeGreaterThanOrEqual(3);
    expect(codes.filter((c) => c === "unauthorized").length).toBeGreaterThanOrEqual(1);
  });
});
