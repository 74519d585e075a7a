import "server-only";
import { openPostgres } from "@/lib/db/postgres";
import type { Database } from "@/lib/db/types";
import { ERRORS } from "@/lib/errors";

function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

/** A Postgres connection for an admin command that answers within `timeoutMs`, or a clear error: never a hang. */
export async function openAnsweringPostgres(url: string, timeoutMs = 15_000): Promise<Database> {
  const db = openPostgres(url, { max: 4 });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.query("select 1"),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs))),
    ]);
    return db;
  } catch (e) {
    void db.close().catch(() => {});
    throw ERRORS.unavailable(
      `Cannot reach the database at ${safeHost(url)}: ${(e as Error).message}. Check the URL and that the server is up.`,
    );
  } finally {
    clearTimeout(timer);
  }
}
