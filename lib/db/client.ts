import "server-only";
import type { Claims, Database, Queryable } from "./types";

type Tx = Queryable;

/**
 * Runs `fn` in a transaction as role `authenticated` with the verified claims, exactly as Supabase's
 * own servers do — so RLS policies, not TypeScript, decide what the user sees and changes.
 * Every query made on behalf of a user goes through here.
 */
export async function withUser<T>(db: Database, claims: Claims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    // fairmind.via marks the transaction as the app server's (see migration 000300): the Data API
    // cannot set it, so only this path may finish uploads and write audit events for a user.
    await tx.query(
      "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true), set_config('fairmind.via', 'server', true)",
      [JSON.stringify(claims)],
    );
    return fn(tx);
  });
}

/** Runs `fn` as role `anon` (no user yet: resolving an API token, like Supabase Auth would). */
export async function withAnon<T>(db: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query("select set_config('role', 'anon', true), set_config('request.jwt.claims', '{\"role\":\"anon\"}', true)");
    return fn(tx);
  });
}

/**
 * IMPORTANT: bypasses RLS. For migrations, seeding, the local auth server (auth.users) and admin
 * tools only — never to serve data to a user request.
 */
export async function withService<T>(db: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(fn);
}
