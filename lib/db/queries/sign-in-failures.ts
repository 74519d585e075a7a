import { sql } from "kysely";
import { all, qb, run } from "../query";
import type { Queryable } from "../types";

// Failed local sign-ins per throttle key, shared by every app server on the database. Service
// connection only (RLS on, no policies).

export interface FailureCount {
  key: string;
  failures: number;
  window_start: Date;
}

/** The counts of `keys` whose window (seconds) is still open. */
export async function failureCounts(tx: Queryable, keys: string[], windowSeconds: number): Promise<FailureCount[]> {
  if (!keys.length) return [];
  return all(
    tx,
    qb
      .selectFrom("sign_in_failures")
      .select(["key", "failures", "window_start"])
      .where("key", "in", keys)
      .where("window_start", ">", sql<Date>`now() - make_interval(secs => ${windowSeconds})`),
  );
}

/** One more failure for each key; a key whose window has closed starts a new one. */
export async function addFailure(tx: Queryable, keys: string[], windowSeconds: number): Promise<void> {
  for (const key of keys) {
    await run(
      tx,
      qb
        .insertInto("sign_in_failures")
        .values({ key, failures: 1 })
        .onConflict((oc) =>
          oc.column("key").doUpdateSet({
            failures: sql`case when sign_in_failures.window_start > now() - make_interval(secs => ${windowSeconds}) then sign_in_failures.failures + 1 else 1 end`,
            window_start: sql`case when sign_in_failures.window_start > now() - make_interval(secs => ${windowSeconds}) then sign_in_failures.window_start else now() end`,
            last_failure: sql`now()`,
          }),
        ),
    );
  }
}

export async function clearFailures(tx: Queryable, keys: string[]): Promise<void> {
  if (keys.length) await run(tx, qb.deleteFrom("sign_in_failures").where("key", "in", keys));
}

/** Drops closed windows (called now and then so the table stays small). */
export async function pruneFailures(tx: Queryable, windowSeconds: number): Promise<void> {
  await run(tx, qb.deleteFrom("sign_in_failures").where("window_start", "<", sql<Date>`now() - make_interval(secs => ${windowSeconds})`));
}
