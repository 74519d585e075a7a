import { sql } from "kysely";
import { first, qb, run } from "../query";
import type { Queryable } from "../types";

// auth.users, as the local auth provider keeps it (the part GoTrue plays in supabase mode). Service
// connection only: users cannot read this table.

export interface LocalUserRow {
  id: string;
  email: string;
  encrypted_password: string | null;
}

/** Creates a user; undefined when the e-mail is taken. */
export async function insertLocalUser(
  tx: Queryable,
  u: { id: string; email: string; passwordHash: string; meta: Record<string, unknown> },
): Promise<{ id: string; email: string } | undefined> {
  // IMPORTANT: no ON CONFLICT (email): GoTrue's e-mail uniqueness is a partial index, not a constraint.
  const taken = await first(
    tx,
    qb
      .selectFrom("auth.users")
      .select("id")
      .where(sql`lower(email)`, "=", u.email.toLowerCase()),
  );
  if (taken) return undefined;
  await run(
    tx,
    qb.insertInto("auth.users").values({
      id: u.id,
      email: u.email,
      encrypted_password: u.passwordHash,
      raw_user_meta_data: JSON.stringify(u.meta),
      email_confirmed_at: sql`now()`,
    }),
  );
  return { id: u.id, email: u.email };
}

export async function findUserByEmail(tx: Queryable, email: string): Promise<LocalUserRow | undefined> {
  const row = await first(tx, qb.selectFrom("auth.users").select(["id", "email", "encrypted_password"]).where("email", "=", email));
  return row ? { ...row, email: row.email ?? email } : undefined;
}

export async function touchLastSignIn(tx: Queryable, id: string): Promise<void> {
  await run(
    tx,
    qb
      .updateTable("auth.users")
      .set({ last_sign_in_at: sql`now()` })
      .where("id", "=", id),
  );
}

/** Sets a user's password, creating the user when the e-mail is new (demo seed); the user's id. */
export async function upsertUserWithPassword(
  tx: Queryable,
  u: { email: string; passwordHash: string; meta: Record<string, unknown> },
): Promise<string> {
  const existing = await first(tx, qb.selectFrom("auth.users").select("id").where("email", "=", u.email));
  if (existing) {
    await run(tx, qb.updateTable("auth.users").set({ encrypted_password: u.passwordHash }).where("id", "=", existing.id));
    return existing.id;
  }
  const id = crypto.randomUUID();
  await insertLocalUser(tx, { id, email: u.email, passwordHash: u.passwordHash, meta: u.meta });
  return id;
}

export async function deleteUsersByEmail(tx: Queryable, emails: string[]): Promise<void> {
  if (emails.length) await run(tx, qb.deleteFrom("auth.users").where("email", "in", emails));
}
