import "server-only";
import { randomBytes } from "node:crypto";
import type { Claims, Database, Queryable } from "./types";

type Tx = Queryable;

/**
 * Runs `fn` in a transaction as role `authenticated` with the verified claims, exactly as Supabase's
 * own servers do — so RLS policies, not TypeScript, decide what the user sees and changes.
 * Every query made on behalf of a user goes through here.
 */
export async function withUser<T>(db: Database, claims: Claims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  // fairmind.via marks the transaction as the app server's (see migration 000300): the Data API
  // cannot set it, so only this path may finish uploads and write audit events for a user.
  const setup = `select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${sqlLiteral(JSON.stringify(claims))}, true), set_config('fairmind.via', 'server', true)`;
  return db.transaction(fn, { setup });
}

/** Runs `fn` as role `anon` (no user yet: resolving an API token, like Supabase Auth would). */
export async function withAnon<T>(db: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(fn, {
    setup: `select set_config('role', 'anon', true), set_config('request.jwt.claims', '{"role":"anon"}', true)`,
  });
}

/**
 * A SQL string literal, dollar-quoted with a random tag: no character inside it means anything to
 * the parser (quotes, backslashes, whatever standard_conforming_strings says). Used for the claims
 * withUser sets, so they travel with BEGIN in one simple-protocol round trip.
 */
export function sqlLiteral(text: string): string {
  if (text.includes("\u0000")) throw new Error("NUL cannot appear in a SQL literal");
  let tag: string;
  do tag = `$fm${randomBytes(6).toString("hex")}$`;
  while (text.includes(tag));
  return `${tag}${text}${tag}`;
}

/**
 * IMPORTANT: bypasses RLS. For migrations, seeding, the local auth server (auth.users) and admin
 * tools only — never to serve data to a user request.
 */
export async function withService<T>(db: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(fn);
}
