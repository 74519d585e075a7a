import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type Compilable,
  type InferResult,
} from "kysely";
import type { DB } from "./schema.gen";
import type { Queryable } from "./types";

/**
 * The typed query builder over lib/db/schema.gen.ts. It only compiles: queries run through the
 * transaction they are given (withUser / withAnon / withService), so the role and claims that RLS
 * reads are always those of the caller — Kysely never holds a connection of its own.
 */
export const qb = new Kysely<DB>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new PostgresIntrospector(k),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

type Row<Q extends Compilable> = InferResult<Q> extends (infer R)[] ? R : never;

/** Runs a compiled query in `tx`; every row. */
export async function all<Q extends Compilable>(tx: Queryable, query: Q): Promise<Row<Q>[]> {
  const c = query.compile();
  const { rows } = await tx.query<Row<Q>>(c.sql, c.parameters as unknown[]);
  return rows;
}

/** The first row, or undefined. */
export async function first<Q extends Compilable>(tx: Queryable, query: Q): Promise<Row<Q> | undefined> {
  return (await all(tx, query))[0];
}

/** Runs a write; the number of rows it affected. */
export async function run(tx: Queryable, query: Compilable): Promise<number> {
  const c = query.compile();
  return (await tx.query(c.sql, c.parameters as unknown[])).rowCount;
}
