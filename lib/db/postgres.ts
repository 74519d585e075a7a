import "server-only";
import pg from "pg";
import type { Database, Queryable } from "./types";

// int8 as number (sizes stay far below 2^53); keep timestamps as Date (pg's default).
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

function wrap(c: pg.Pool | pg.PoolClient): Queryable & { exec(sql: string): Promise<void> } {
  return {
    async query<R>(text: string, params?: unknown[]) {
      const r = await c.query({ text, values: params, types });
      return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
    },
    async exec(sql: string) {
      await c.query({ text: sql, types });
    },
  };
}

/** A pooled connection to a Postgres server (postgres mode, supabase mode via its connection string). */
export function openPostgres(connectionString: string, opts: { max?: number } = {}): Database {
  // A configured database that does not answer is an error within seconds, not a hang.
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: "fairmind",
  });
  // A dropped idle connection must not crash the process.
  pool.on("error", (e) => console.error("[db] idle client error:", e.message));
  return {
    kind: "postgres",
    ...wrap(pool),
    async transaction(fn, opts) {
      const client = await pool.connect();
      try {
        // One round trip for BEGIN and the setup (simple protocol takes several statements).
        await client.query(opts?.setup ? `begin; ${opts.setup}` : "begin");
        const result = await fn(wrap(client));
        await client.query("commit");
        return result;
      } catch (e) {
        await client.query("rollback").catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
