// Test databases: a migrated PGlite loaded from the template tarball made once per run
// (test/global-setup.ts), or a fresh database on the Postgres server at TEST_PG_URL, created and
// dropped by the test itself. Both get the same shim + migrations.
import crypto from "node:crypto";
import fs from "node:fs";
import pg from "pg";
import { migrate } from "@/lib/db/migrate";
import { openMemoryPGlite } from "@/lib/db/pglite";
import { openPostgres } from "@/lib/db/postgres";
import type { Database } from "@/lib/db/types";

export const TEMPLATE_PATH = ".data-test/pglite-template.tar.gz";
export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export type DbKind = "pglite" | "postgres";
export const DB_KINDS: DbKind[] = ["pglite", "postgres"];

export interface TestDatabase {
  db: Database;
  kind: DbKind;
  url?: string;
  cleanup(): Promise<void>;
}

/** A migrated, empty database of the given kind, private to the caller. */
export async function openTestDatabase(kind: DbKind): Promise<TestDatabase> {
  if (kind === "pglite") {
    const tarball = fs.existsSync(TEMPLATE_PATH) ? new Blob([fs.readFileSync(TEMPLATE_PATH)]) : undefined;
    const db = await openMemoryPGlite(tarball);
    if (!tarball) await migrate(db);
    return { db, kind, cleanup: () => db.close() };
  }
  const name = `fm_test_${process.pid}_${crypto.randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const db = openPostgres(url.toString(), { max: 5 });
  await migrate(db);
  return {
    db,
    kind,
    url: url.toString(),
    async cleanup() {
      await db.close();
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      try {
        await a.query(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}
