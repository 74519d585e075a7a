// Runs the RLS case table (cases.ts) on PGlite and on the real Postgres server: one `it` per case,
// each in its own transaction (withUser / withAnon / withService, the app's own paths) that is rolled
// back by throwing a sentinel, so no case sees another's writes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withAnon, withService, withUser } from "@/lib/db/client";
import type { Claims, Database, Queryable } from "@/lib/db/types";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { ACTORS, CASES, type Actor, type Expected, type RlsCase } from "./cases";
import { buildWorld, type World } from "./fixtures";

type Outcome = { rows: number } | { error: string; message: string };

class Rollback extends Error {}

function claimsFor(who: Exclude<Actor, "anon" | "service">, w: World): Claims {
  if (who === "token") {
    const u = w.users.holder;
    return { sub: u.id, email: u.email, role: "authenticated", fm_token: { id: w.tokHolderA, org_id: w.orgA, role: "viewer" } };
  }
  const u = w.users[who];
  return { sub: u.id, email: u.email, role: "authenticated" };
}

/** Runs one case's statement as its actor and reports rows (or the error) — always rolled back. */
async function execute(db: Database, w: World, c: RlsCase): Promise<Outcome> {
  const [text, params] = c.sql(w);
  let outcome: Outcome | undefined;
  const body = async (tx: Queryable) => {
    try {
      const r = await tx.query(text, params);
      // SELECTs and function calls count returned rows; writes count affected rows.
      outcome = { rows: c.op === "select" || c.op === "call" ? r.rows.length : r.rowCount };
    } catch (e) {
      const err = e as { code?: string; message?: string };
      outcome = { error: err.code ?? "no sqlstate", message: err.message ?? String(e) };
    }
    throw new Rollback();
  };
  try {
    if (c.who === "anon") await withAnon(db, body);
    else if (c.who === "service") await withService(db, body);
    else await withUser(db, claimsFor(c.who, w), body);
  } catch (e) {
    if (!(e instanceof Rollback)) throw e;
  }
  if (!outcome) throw new Error("the case did not run");
  return outcome;
}

function expectedOutcome(expected: Expected): Partial<Outcome> {
  if (expected === "allowed") return { rows: 1 };
  if (expected === "hidden") return { rows: 0 };
  return { error: expected === "denied" ? "42501" : expected.slice("denied:".length) };
}

const FINGERPRINTED = [
  "public.organizations",
  "public.memberships",
  "public.profiles",
  "public.models",
  "public.model_versions",
  "public.model_aliases",
  "public.model_alias_history",
  "public.audit_events",
  "public.api_tokens",
  "storage.objects",
];

/** Every row of every table the cases touch, hashed (read through the service connection). */
async function fingerprint(db: Database): Promise<string> {
  const parts: string[] = [];
  for (const table of FINGERPRINTED) {
    const { rows } = await db.query<{ h: string | null }>(`select md5(string_agg(t::text, '|' order by t::text)) as h from ${table} t`);
    parts.push(`${table}=${rows[0]?.h}`);
  }
  return parts.join(" ");
}

const caseName = (c: RlsCase) => `${ACTORS[c.who]} · ${c.what} · ${c.op} (${c.target}) · ${c.expected}`;

it("names every case uniquely", () => {
  const names = CASES.map(caseName);
  expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  expect(CASES.length).toBeGreaterThan(300);
});

describe.each(DB_KINDS)("RLS on %s", (kind) => {
  let t: TestDatabase;
  let w: World;
  let before: string;
  beforeAll(async () => {
    t = await openTestDatabase(kind);
    w = await buildWorld(t.db);
    before = await fingerprint(t.db);
  });
  afterAll(() => t?.cleanup());

  for (const c of CASES) {
    it(caseName(c), async () => {
      expect(await execute(t.db, w, c)).toMatchObject(expectedOutcome(c.expected));
    });
  }

  // The rollback is what keeps cases independent: prove a successful write left nothing behind.
  it("leaves the world as it was after every case", async () => {
    expect(await fingerprint(t.db)).toBe(before);
  });
});
