import "server-only";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import type { Database, Queryable } from "@/lib/db/types";

// A logical export of our tables (one JSON object per row, per table, in foreign-key order) taken
// inside one REPEATABLE READ, read-only transaction, and its import into an empty, migrated
// database. Works the same on PGlite and on a Postgres server; no pg_dump needed.

export interface TableDump {
  /** schema.table, unquoted. */
  name: string;
  rows: number;
  columns: string[];
  /** Where the rows were spooled (JSON lines). */
  file: string;
}

/** Rows written by migrations themselves (present in any freshly migrated database). */
const SEEDED_BY_MIGRATIONS = new Set(["fairmind.schema_migrations", "storage.buckets", "public.storage_settings"]);

const FETCH = 2000;

interface TableInfo {
  name: string;
  quoted: string;
  columns: string[];
  deps: string[];
}

async function listTables(tx: Queryable, schemas: string[]): Promise<TableInfo[]> {
  const { rows } = await tx.query<{ name: string; quoted: string; columns: string[] | null; deps: string[] | null }>(
    `select n.nspname || '.' || c.relname as name, format('%I.%I', n.nspname, c.relname) as quoted,
            (select array_agg(a.attname::text order by a.attnum) from pg_attribute a
              where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = '') as columns,
            (select array_agg(distinct fn.nspname || '.' || fc.relname) from pg_constraint k
              join pg_class fc on fc.oid = k.confrelid join pg_namespace fn on fn.oid = fc.relnamespace
              where k.conrelid = c.oid and k.contype = 'f' and k.confrelid <> c.oid) as deps
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and not c.relispartition and n.nspname = any($1::text[])
     order by 1`,
    [schemas],
  );
  const tables = rows.map((r) => ({ name: r.name, quoted: r.quoted, columns: r.columns ?? [], deps: r.deps ?? [] }));
  // Parents before children; a cycle (models.latest_version_id <-> model_versions) is broken by
  // name order — the import runs with triggers (and so foreign-key checks) off anyway.
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: TableInfo[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (t: TableInfo) => {
    if (state.get(t.name)) return;
    state.set(t.name, "visiting");
    for (const d of t.deps) {
      const dep = byName.get(d);
      if (dep && !state.get(d)) visit(dep);
    }
    state.set(t.name, "done");
    ordered.push(t);
  };
  tables.forEach(visit);
  return ordered;
}

/**
 * Exports every table of `schemas` to `<dir>/<schema>.<table>.jsonl`, consistently (one snapshot).
 * Rows are streamed through a cursor, never held in memory all at once.
 */
export async function exportTables(db: Database, schemas: string[], dir: string): Promise<TableDump[]> {
  fs.mkdirSync(dir, { recursive: true });
  return db.transaction(async (tx) => {
    // IMPORTANT: must be the first statement of the transaction to take effect.
    await tx.query("set transaction isolation level repeatable read, read only");
    const tables = await listTables(tx, schemas);
    const dumps: TableDump[] = [];
    for (const [i, t] of tables.entries()) {
      const file = path.join(dir, `${t.name}.jsonl`);
      const out = fs.createWriteStream(file);
      let rows = 0;
      const cursor = `fairmind_dump_${i}`;
      await tx.query(`declare ${cursor} no scroll cursor for select row_to_json(t)::text as j from ${t.quoted} t`);
      for (;;) {
        const { rows: batch } = await tx.query<{ j: string }>(`fetch ${FETCH} from ${cursor}`);
        if (batch.length === 0) break;
        rows += batch.length;
        const text = batch.map((r) => r.j).join("\n") + "\n";
        if (!out.write(text)) await new Promise<void>((r) => out.once("drain", () => r()));
      }
      await tx.query(`close ${cursor}`);
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      dumps.push({ name: t.name, rows, columns: t.columns, file });
    }
    return dumps;
  });
}

/** Tables of `schemas` that already hold rows a restore would collide with (migration seeds excepted). */
export async function nonEmptyTables(db: Database, schemas: string[]): Promise<string[]> {
  const tables = await listTables(db, schemas);
  const busy: string[] = [];
  for (const t of tables) {
    if (SEEDED_BY_MIGRATIONS.has(t.name)) continue;
    const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from (select 1 from ${t.quoted} limit 1) x`);
    if ((rows[0]?.n ?? 0) > 0) busy.push(t.name);
  }
  return busy;
}

const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_ROWS = 1000;

/**
 * Imports table dumps into a migrated database in one transaction, with triggers off
 * (session_replication_role = replica) so rows land exactly as exported: no audit rows appended,
 * no rollups recomputed, identity values kept. Checks every table's row count before committing.
 */
export async function importTables(
  db: Database,
  dumps: { name: string; rows: number; columns: string[]; file: string }[],
  schemas: string[],
): Promise<void> {
  await db.transaction(async (tx) => {
    try {
      await tx.query("set local session_replication_role = replica");
    } catch (e) {
      throw new Error(
        `The restore needs a role that may set session_replication_role (a superuser, or Supabase's postgres role): ${(e as Error).message}`,
      );
    }
    const targets = new Map((await listTables(tx, schemas)).map((t) => [t.name, t]));
    for (const dump of dumps) {
      const target = targets.get(dump.name);
      if (!target)
        throw new Error(
          `The archive has table ${dump.name}, which this database does not: restore with the app version that made the archive.`,
        );
      const unknown = dump.columns.filter((c) => !target.columns.includes(c));
      if (unknown.length)
        throw new Error(
          `The archive's ${dump.name} has columns this schema lacks (${unknown.join(", ")}): the archive is newer than this app.`,
        );
      // Columns only the target has (a newer migration) take their defaults.
      const cols = dump.columns.map((c) => `"${c.replace(/"/g, '""')}"`).join(", ");
      const insert = `insert into ${target.quoted} (${cols}) overriding system value
        select ${cols} from json_populate_recordset(null::${target.quoted}, $1::json) on conflict do nothing`;
      let batch: string[] = [];
      let bytes = 0;
      const flush = async () => {
        if (!batch.length) return;
        await tx.query(insert, [`[${batch.join(",")}]`]);
        batch = [];
        bytes = 0;
      };
      const lines = readline.createInterface({ input: fs.createReadStream(dump.file), crlfDelay: Infinity });
      for await (const line of lines) {
        if (!line) continue;
        batch.push(line);
        bytes += line.length;
        if (batch.length >= BATCH_ROWS || bytes >= BATCH_BYTES) await flush();
      }
      await flush();
      if (dump.name !== "fairmind.schema_migrations") {
        const { rows } = await tx.query<{ n: number }>(`select count(*)::int as n from ${target.quoted}`);
        if (rows[0]?.n !== dump.rows) throw new Error(`${dump.name}: ${rows[0]?.n} rows after the import, the archive has ${dump.rows}.`);
      }
    }
    // Identity and serial sequences continue after the restored values.
    const { rows: seqs } = await tx.query<{ tbl: string; col: string; seq: string }>(
      `select format('%I.%I', n.nspname, c.relname) as tbl, format('%I', a.attname) as col, pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) as seq
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = any($1::text[]) and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
         and pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) is not null`,
      [schemas],
    );
    for (const s of seqs) {
      await tx.query(`select setval($1::regclass, coalesce((select max(${s.col}) from ${s.tbl}), 0) + 1, false)`, [s.seq]);
    }
  });
}

/** Row counts of the given tables (restore checks, tests). */
export async function countRows(db: Queryable, tables: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    const [schema, name] = t.split(".");
    const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from ${quoteIdent(schema!)}.${quoteIdent(name!)}`);
    out[t] = rows[0]?.n ?? 0;
  }
  return out;
}

export const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
