// Postgres mode on the Supabase project's own database (the step before `npm run migrate:cloud`):
// the app's own SQL run as the hosted `postgres` stand-in. Each check runs inside a transaction that
// is rolled back, so the lane's database is left as it was.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import pg from "pg";
import { describe, expect, it } from "vitest";
import type { Principal } from "@/lib/auth/principal";
import { signUpLocal } from "@/lib/auth/local";
import { parseConfig } from "@/lib/config";
import { migrate } from "@/lib/db/migrate";
import type { Database, Queryable } from "@/lib/db/types";
import { createPlatform } from "@/lib/platform/platform";
import { createServices } from "@/lib/services/services";
import { ctx, lane, nextVersion, safetensors, title } from "./support/lane";

/** A Database whose transactions are savepoints inside one outer transaction that is always rolled back. */
async function inRolledBackTransaction<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ctx().hostedDbUrl, application_name: "sblane-pgmode" });
  await client.connect();
  // As lib/db/postgres.ts reads them: int8 as number (the services compare sizes as numbers).
  const types = {
    getTypeParser: ((oid: number, format?: "text" | "binary") =>
      oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
  const q: Queryable["query"] = async (text, params) => {
    const r = await client.query({ text, values: params as unknown[], types });
    return { rows: r.rows, rowCount: r.rowCount ?? r.rows.length };
  };
  const exec = async (s: string) => void (await client.query(s));
  let n = 0;
  const db: Database = {
    kind: "postgres",
    query: q,
    exec,
    async transaction(inner, opts) {
      const sp = `sp${++n}`;
      await client.query(`savepoint ${sp}`);
      try {
        // withUser's role and claims (`set local` holds until the outer transaction ends: these
        // savepoints run one after another, each setting its own).
        if (opts?.setup) await client.query(opts.setup);
        const r = await inner({ query: q, exec });
        await client.query(`release savepoint ${sp}`);
        return r;
      } catch (e) {
        await client.query(`rollback to savepoint ${sp}`);
        throw e;
      }
    },
    close: async () => {},
  };
  try {
    await client.query("begin");
    return await fn(db);
  } finally {
    await client.query("rollback").catch(() => {});
    await client.end();
  }
}

const attempt = async (fn: () => Promise<unknown>) => {
  try {
    await fn();
    return { ok: true, error: null as string | null };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
};

describe.skipIf(!lane)(title("postgres mode on a database whose schema supabase db push applied"), () => {
  it("the migrations runner recognises the migrations the Supabase CLI applied and starts (no 'already exists')", async () => {
    const withShim = await inRolledBackTransaction((db) => attempt(() => migrate(db)));
    // Without the local shim too: whatever the shim does, the migrations themselves must be seen as applied.
    const migrationsOnly = await inRolledBackTransaction((db) => attempt(() => migrate(db, { shim: false })));
    expect({ withShim, migrationsOnly }).toEqual({ withShim: { ok: true, error: null }, migrationsOnly: { ok: true, error: null } });
  });

  it("signing up works on GoTrue's auth.users (e-mail uniqueness is a partial index, not a constraint)", async () => {
    const r = await inRolledBackTransaction((db) =>
      attempt(() => signUpLocal(db, { email: `signup.${crypto.randomUUID()}@lane.test`, password: "lane-password-123" })),
    );
    expect(r).toEqual({ ok: true, error: null });
  });

  it("an upload in postgres mode leaves no row in storage.objects that Storage would trust without bytes", async () => {
    const c = ctx();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sblane-pgmode-"));
    const config = parseConfig({ DATABASE_URL: c.hostedDbUrl, DATA_DIR: dataDir });
    const owner = c.users.owner;
    const p: Principal = {
      claims: { sub: owner.id, email: owner.email, role: "authenticated" },
      userId: owner.id,
      email: owner.email,
      via: "bearer",
    };
    const r = await inRolledBackTransaction(async (db) => {
      const services = createServices(createPlatform(config, { database: db }), db);
      const data = safetensors(32 * 1024);
      const up = await attempt(() =>
        services.uploads.uploadVersion(p, {
          org: c.orgA.slug,
          model: "pgmode",
          version: nextVersion(),
          fileName: "m.safetensors",
          body: Readable.from([data]),
          contentLength: data.length,
        }),
      );
      const { rows } = await db.query<{ n: number }>(
        "select count(*)::int as n from storage.objects where bucket_id = $1 and name like $2",
        [c.bucket, `${c.orgA.slug}/pgmode_%`],
      );
      return { upload: up, rowsInStorageObjects: rows[0]!.n };
    });
    expect(r).toEqual({ upload: { ok: true, error: null }, rowsInStorageObjects: 0 });
  });
});
