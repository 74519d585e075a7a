// The RLS case table: WHO (role, org) × WHAT (table / bucket / function, operation, target) →
// EXPECTED outcome. rls.test.ts runs every row on PGlite and on a real Postgres server, each case in
// its own transaction that is rolled back.
//
//   allowed  select: exactly one row comes back · write: exactly one row is affected
//   hidden   select: no rows · update/delete: no rows affected (and no error)
//   denied   the statement raises 42501 (permission / RLS) — or the SQLSTATE after the colon
//            (P0001 our triggers' rules, 23514 check, P0002 not found, 23505 duplicate)
//
// The world (two orgs, who is who) is in fixtures.ts.
import crypto from "node:crypto";
import { BUCKET, ORG_A_SLUG, ORG_B_SLUG, OTHER_BUCKET, type World } from "./fixtures";

export type Expected = "allowed" | "hidden" | "denied" | `denied:${string}`;
export type Op = "select" | "insert" | "update" | "delete" | "truncate" | "call";

/** Who runs the statement. Every signed-in actor is a user of fixtures.ts; `token` is `holder` acting through its API token. */
export const ACTORS = {
  anon: "anon",
  service: "service connection",
  ownerA: "owner of A",
  adminA: "admin of A",
  memberA: "member of A",
  viewerA: "viewer of A",
  memberB: "member of B only",
  ownerB: "sole owner of B",
  revoked: "revoked member of A",
  both: "member of A and B",
  holder: "owner of A + member of B (session)",
  token: "viewer token for A of owner of A + member of B",
} as const;
export type Actor = keyof typeof ACTORS;

export type Stmt = (w: World) => [text: string, params?: unknown[]];

export interface RlsCase {
  who: Actor;
  what: string;
  op: Op;
  target: string;
  sql: Stmt;
  expected: Expected;
}

const A = "allowed";
const H = "hidden";
const D = "denied";
const DENIED_BY_RULE = "denied:P0001"; // raised by our triggers (immutability, last owner)
const DENIED_BY_CHECK = "denied:23514";

type Expectations = Partial<Record<Actor, Expected>>;

/** One row of the table: the same statement for several actors. */
function row(what: string, op: Op, target: string, sql: Stmt, expect: Expectations): RlsCase[] {
  return (Object.entries(expect) as [Actor, Expected][]).map(([who, expected]) => ({ who, what, op, target, sql, expected }));
}

// Recurring columns of the table.
/** Reads of something of org A: every member of A (the token included), nobody else. */
const SEES_A: Expectations = {
  anon: D,
  ownerA: A,
  adminA: A,
  memberA: A,
  viewerA: A,
  memberB: H,
  revoked: H,
  both: A,
  holder: A,
  token: A,
};
/** Reads of something of org B: B's members; the token is pinned to A although its user is in B. */
const SEES_B: Expectations = {
  anon: D,
  ownerA: H,
  adminA: H,
  memberA: H,
  viewerA: H,
  memberB: A,
  ownerB: A,
  revoked: H,
  both: A,
  holder: A,
  token: H,
};
/** Writes in A that need the member role; `no` is what the others get (denied for inserts, hidden for updates/deletes). */
const writersA = (no: Expected): Expectations => ({
  anon: D,
  ownerA: A,
  adminA: A,
  memberA: A,
  viewerA: no,
  memberB: no,
  revoked: no,
  both: A,
  holder: A,
  token: no,
});
/** Writes in A that need the admin role. */
const adminsA = (no: Expected): Expectations => ({
  anon: D,
  ownerA: A,
  adminA: A,
  memberA: no,
  viewerA: no,
  memberB: no,
  revoked: no,
  both: no,
  holder: A,
  token: no,
});
/** The same outcome for every signed-in actor (and `anon` denied: it has no privileges on these tables). */
const everyone = (e: Expected): Expectations => ({
  anon: D,
  ownerA: e,
  adminA: e,
  memberA: e,
  viewerA: e,
  memberB: e,
  ownerB: e,
  revoked: e,
  both: e,
  holder: e,
  token: e,
});
/** "Rows outside my organizations": none, for callers in A only, the token, B's member and the ex-member. */
function nothingElse(what: string, table: string, orgColumn: string): RlsCase[] {
  return [
    ...row(
      what,
      "select",
      "any row of another org than A",
      (w) => [`select 1 from ${table} where ${orgColumn} is distinct from $1`, [w.orgA]],
      { ownerA: H, adminA: H, memberA: H, viewerA: H, token: H },
    ),
    ...row(
      what,
      "select",
      "any row of another org than B",
      (w) => [`select 1 from ${table} where ${orgColumn} is distinct from $1`, [w.orgB]],
      { memberB: H },
    ),
    ...row(what, "select", "any row at all", () => [`select 1 from ${table}`], { revoked: H }),
  ];
}

const hash = () => crypto.randomBytes(32).toString("hex");
const newToken =
  (org: "orgA" | "orgB", role: string, user?: (w: World) => string): Stmt =>
  (w) => [
    `insert into public.api_tokens (org_id, user_id, name, token_hash, token_prefix, role)
   values ($1, coalesce($2::uuid, auth.uid()), 'new', $3, 'fm_new', $4)`,
    [w[org], user ? user(w) : null, hash(), role],
  ];

export const CASES: RlsCase[] = [
  // ---------------------------------------------------------------------------------------------
  // organizations
  ...row("organizations", "select", "org A", (w) => ["select id from public.organizations where id = $1", [w.orgA]], SEES_A),
  ...row("organizations", "select", "org B", (w) => ["select id from public.organizations where id = $1", [w.orgB]], SEES_B),
  ...row("organizations", "select", "any org at all", () => ["select 1 from public.organizations"], { revoked: H }),
  ...row(
    "organizations",
    "insert",
    "a new org created by me",
    () => ["insert into public.organizations (slug, name, created_by) values ('new_org', 'New', auth.uid())"],
    { anon: D, ownerA: A, memberA: A, viewerA: A, memberB: A, revoked: A, both: A, holder: A, token: D },
  ),
  ...row(
    "organizations",
    "insert",
    "a new org in someone else's name",
    (w) => ["insert into public.organizations (slug, name, created_by) values ('new_org', 'New', $1)", [w.users.ownerA.id]],
    { memberA: D, memberB: D },
  ),
  ...row(
    "organizations",
    "update",
    "rename org A",
    (w) => ["update public.organizations set name = 'Renamed' where id = $1", [w.orgA]],
    adminsA(H),
  ),
  // The slug is the first folder of every object key: changing it would orphan the files and let a
  // new org with the old slug claim them.
  ...row(
    "organizations",
    "update",
    "change org A's slug",
    (w) => ["update public.organizations set slug = 'alpha_new' where id = $1", [w.orgA]],
    { ownerA: D, adminA: D, memberA: D, token: D },
  ),
  ...row("organizations", "delete", "org A", (w) => ["delete from public.organizations where id = $1", [w.orgA]], {
    anon: D,
    ownerA: A,
    adminA: H,
    memberA: H,
    viewerA: H,
    memberB: H,
    revoked: H,
    both: H,
    holder: A,
    token: H,
  }),
  ...row("organizations", "delete", "org B", (w) => ["delete from public.organizations where id = $1", [w.orgB]], {
    ownerA: H,
    ownerB: A,
    memberB: H,
    holder: H,
    both: H,
    token: H,
  }),

  // ---------------------------------------------------------------------------------------------
  // memberships
  ...row(
    "memberships",
    "select",
    "member of A's membership",
    (w) => ["select 1 from public.memberships where org_id = $1 and user_id = $2", [w.orgA, w.users.memberA.id]],
    SEES_A,
  ),
  ...row(
    "memberships",
    "select",
    "member of B's membership",
    (w) => ["select 1 from public.memberships where org_id = $1 and user_id = $2", [w.orgB, w.users.memberB.id]],
    SEES_B,
  ),
  ...nothingElse("memberships", "public.memberships", "org_id"),
  ...row(
    "memberships",
    "insert",
    "add an outsider to A as member",
    (w) => ["insert into public.memberships (org_id, user_id, role) values ($1, $2, 'member')", [w.orgA, w.users.outsider.id]],
    adminsA(D),
  ),
  ...row(
    "memberships",
    "insert",
    "add an outsider to A as owner",
    (w) => ["insert into public.memberships (org_id, user_id, role) values ($1, $2, 'owner')", [w.orgA, w.users.outsider.id]],
    { ownerA: A, holder: A, adminA: D, memberA: D, token: D },
  ),
  ...row(
    "memberships",
    "insert",
    "add myself to A",
    (w) => ["insert into public.memberships (org_id, user_id, role) values ($1, auth.uid(), 'member')", [w.orgA]],
    { memberB: D, revoked: D, ownerB: D },
  ),
  ...row(
    "memberships",
    "insert",
    "add an outsider to B",
    (w) => ["insert into public.memberships (org_id, user_id, role) values ($1, $2, 'member')", [w.orgB, w.users.outsider.id]],
    { ownerA: D, adminA: D, both: D, holder: D, token: D, ownerB: A },
  ),
  ...row(
    "memberships",
    "update",
    "make member of A an admin",
    (w) => ["update public.memberships set role = 'admin' where org_id = $1 and user_id = $2", [w.orgA, w.users.memberA.id]],
    adminsA(H),
  ),
  ...row(
    "memberships",
    "update",
    "raise my own role to admin",
    (w) => ["update public.memberships set role = 'admin' where org_id = $1 and user_id = auth.uid()", [w.orgA]],
    { memberA: H, viewerA: H, both: H },
  ),
  ...row(
    "memberships",
    "update",
    "raise my own role to owner",
    (w) => ["update public.memberships set role = 'owner' where org_id = $1 and user_id = auth.uid()", [w.orgA]],
    { adminA: D, memberA: H, viewerA: H, token: H },
  ),
  ...row(
    "memberships",
    "update",
    "demote owner of A",
    (w) => ["update public.memberships set role = 'member' where org_id = $1 and user_id = $2", [w.orgA, w.users.ownerA.id]],
    { adminA: H, memberA: H, holder: A, token: H },
  ),
  ...row(
    "memberships",
    "update",
    "demote myself, the last owner of B",
    (w) => ["update public.memberships set role = 'admin' where org_id = $1 and user_id = auth.uid()", [w.orgB]],
    { ownerB: DENIED_BY_RULE },
  ),
  ...row(
    "memberships",
    "delete",
    "remove member of A (or leave, as them)",
    (w) => ["delete from public.memberships where org_id = $1 and user_id = $2", [w.orgA, w.users.memberA.id]],
    { ...adminsA(H), memberA: A },
  ),
  ...row(
    "memberships",
    "delete",
    "remove owner of A (or leave, as them: another owner remains)",
    (w) => ["delete from public.memberships where org_id = $1 and user_id = $2", [w.orgA, w.users.ownerA.id]],
    { ownerA: A, holder: A, adminA: H, memberA: H, token: H },
  ),
  ...row(
    "memberships",
    "delete",
    "leave B as its last owner",
    (w) => ["delete from public.memberships where org_id = $1 and user_id = auth.uid()", [w.orgB]],
    { ownerB: DENIED_BY_RULE },
  ),
  ...row(
    "memberships",
    "delete",
    "leave A",
    (w) => ["delete from public.memberships where org_id = $1 and user_id = auth.uid()", [w.orgA]],
    { viewerA: A, both: A },
  ),
  // Without a WHERE clause only the delete policy filters (no SELECT policy): a token pinned to A must
  // not take its user out of B, nor out of A (a viewer token is not its user's session).
  ...row("memberships", "delete", "every row the policy lets me delete (no WHERE)", () => ["delete from public.memberships"], { token: H }),

  // ---------------------------------------------------------------------------------------------
  // profiles
  ...row(
    "profiles",
    "select",
    "member of A's profile",
    (w) => ["select id from public.profiles where id = $1", [w.users.memberA.id]],
    SEES_A,
  ),
  ...row(
    "profiles",
    "select",
    "member of B's profile",
    (w) => ["select id from public.profiles where id = $1", [w.users.memberB.id]],
    SEES_B,
  ),
  ...row("profiles", "select", "my own profile", () => ["select id from public.profiles where id = auth.uid()"], {
    revoked: A,
    memberB: A,
    token: A,
    viewerA: A,
  }),
  ...row(
    "profiles",
    "select",
    "anyone outside A",
    (w) => [
      `select 1 from public.profiles p where not exists (
         select 1 from public.memberships m where m.user_id = p.id and m.org_id = $1)`,
      [w.orgA],
    ],
    { ownerA: H, memberA: H, viewerA: H, token: H },
  ),
  ...row("profiles", "select", "anyone but me", () => ["select 1 from public.profiles where id <> auth.uid()"], { revoked: H }),
  ...row("profiles", "update", "my display name", () => ["update public.profiles set display_name = 'Me' where id = auth.uid()"], {
    ...everyone(A),
    token: H,
  }), // an API token is not its user's session: no account changes through it
  ...row(
    "profiles",
    "update",
    "viewer of A's display name",
    (w) => ["update public.profiles set display_name = 'Them' where id = $1", [w.users.viewerA.id]],
    { ownerA: H, adminA: H, memberA: H },
  ),
  ...row("profiles", "update", "my e-mail", () => ["update public.profiles set email = 'x@rls.test' where id = auth.uid()"], {
    memberA: D,
  }),
  ...row(
    "profiles",
    "insert",
    "a profile for me",
    () => ["insert into public.profiles (id, email) values (auth.uid(), 'x@rls.test')"],
    everyone(D),
  ),
  ...row("profiles", "delete", "my profile", () => ["delete from public.profiles where id = auth.uid()"], everyone(D)),

  // ---------------------------------------------------------------------------------------------
  // models
  ...row("models", "select", "A's model", (w) => ["select id from public.models where id = $1", [w.modelA]], SEES_A),
  ...row("models", "select", "B's model", (w) => ["select id from public.models where id = $1", [w.modelB]], SEES_B),
  ...nothingElse("models", "public.models", "org_id"),
  ...row(
    "models",
    "insert",
    "a new model in A",
    (w) => ["insert into public.models (org_id, slug, name, created_by) values ($1, 'new_model', 'New', auth.uid())", [w.orgA]],
    writersA(D),
  ),
  ...row(
    "models",
    "insert",
    "a new model in A in someone else's name",
    (w) => ["insert into public.models (org_id, slug, name, created_by) values ($1, 'new_model', 'New', $2)", [w.orgA, w.users.ownerA.id]],
    { memberA: D, adminA: D },
  ),
  // The rollup columns are maintained by triggers: nobody writes them directly.
  ...row(
    "models",
    "insert",
    "a new model in A with forged counters",
    (w) => [
      "insert into public.models (org_id, slug, name, created_by, total_bytes) values ($1, 'new_model', 'New', auth.uid(), 0)",
      [w.orgA],
    ],
    { memberA: D, ownerA: D },
  ),
  ...row(
    "models",
    "insert",
    "a new model in B",
    (w) => ["insert into public.models (org_id, slug, name, created_by) values ($1, 'new_model', 'New', auth.uid())", [w.orgB]],
    { ownerA: D, memberA: D, token: D, both: A },
  ),
  ...row(
    "models",
    "update",
    "A's model description",
    (w) => ["update public.models set description = 'edited' where id = $1", [w.modelA]],
    writersA(H),
  ),
  ...row(
    "models",
    "update",
    "A's model counters (total_bytes)",
    (w) => ["update public.models set total_bytes = 0 where id = $1", [w.modelA]],
    { ownerA: D, memberA: D, viewerA: D, memberB: D },
  ),
  ...row("models", "update", "move A's model to B", (w) => ["update public.models set org_id = $2 where id = $1", [w.modelA, w.orgB]], {
    both: D,
    holder: D,
  }),
  ...row(
    "models",
    "update",
    "B's model description",
    (w) => ["update public.models set description = 'edited' where id = $1", [w.modelB]],
    { memberA: H, ownerA: H, token: H, memberB: A },
  ),
  ...row(
    "models",
    "delete",
    "A's model (with versions, aliases and alias history)",
    (w) => ["delete from public.models where id = $1", [w.modelA]],
    adminsA(H),
  ),
  ...row("models", "delete", "B's model", (w) => ["delete from public.models where id = $1", [w.modelB]], {
    ownerA: H,
    adminA: H,
    holder: H,
    token: H,
    ownerB: A,
  }),

  // ---------------------------------------------------------------------------------------------
  // model_versions
  ...row(
    "model_versions",
    "select",
    "A's ready version",
    (w) => ["select id from public.model_versions where id = $1", [w.vReadyA]],
    SEES_A,
  ),
  ...row(
    "model_versions",
    "select",
    "A's quarantined version",
    (w) => ["select id from public.model_versions where id = $1", [w.vQuarA]],
    SEES_A,
  ),
  ...row(
    "model_versions",
    "select",
    "A's deleted version",
    (w) => ["select id from public.model_versions where id = $1", [w.vDeletedA]],
    SEES_A,
  ),
  ...row(
    "model_versions",
    "select",
    "member of A's pending upload",
    (w) => ["select id from public.model_versions where id = $1", [w.vPendingA]],
    { anon: D, memberA: A, ownerA: H, adminA: H, viewerA: H, memberB: H, revoked: H, both: H, holder: H, token: H },
  ),
  ...row(
    "model_versions",
    "select",
    "B's ready version",
    (w) => ["select id from public.model_versions where id = $1", [w.vReadyB]],
    SEES_B,
  ),
  ...nothingElse("model_versions", "public.model_versions", "org_id"),
  ...row(
    "model_versions",
    "insert",
    "start an upload in A",
    (w) => [
      `insert into public.model_versions (org_id, model_id, version, created_by)
       values ($1, $2, '3.0.0', auth.uid())`,
      [w.orgA, w.modelA],
    ],
    writersA(D),
  ),
  ...row(
    "model_versions",
    "insert",
    "a version in A that is ready at once",
    (w) => [
      `insert into public.model_versions (org_id, model_id, version, created_by, status, size_bytes, sha256)
       values ($1, $2, '3.0.0', auth.uid(), 'ready', 1, $3)`,
      [w.orgA, w.modelA, hash()],
    ],
    { memberA: D, ownerA: D },
  ),
  ...row(
    "model_versions",
    "insert",
    "an upload in A in someone else's name",
    (w) => [
      `insert into public.model_versions (org_id, model_id, version, created_by)
       values ($1, $2, '3.0.0', $3)`,
      [w.orgA, w.modelA, w.users.memberA.id],
    ],
    { adminA: D },
  ),
  ...row(
    "model_versions",
    "insert",
    "start an upload in B",
    (w) => [
      `insert into public.model_versions (org_id, model_id, version, created_by)
       values ($1, $2, '3.0.0', auth.uid())`,
      [w.orgB, w.modelB],
    ],
    { memberA: D, token: D, both: A, memberB: A },
  ),
  ...row(
    "model_versions",
    "update",
    "quarantine A's ready version",
    (w) => ["update public.model_versions set status = 'quarantined' where id = $1", [w.vReadyA]],
    writersA(H),
  ),
  ...row(
    "model_versions",
    "update",
    "rescan A's ready version (scan verdict)",
    (w) => ["update public.model_versions set scan_verdict = 'safe', scanned_at = now() where id = $1", [w.vReadyA]],
    { memberA: A, viewerA: H, token: H, memberB: H },
  ),
  // Immutability: the bytes of a version that left `pending` never change — for anyone.
  ...row(
    "model_versions",
    "update",
    "sha256 of A's ready version",
    (w) => ["update public.model_versions set sha256 = $2 where id = $1", [w.vReadyA, hash()]],
    {
      service: DENIED_BY_RULE,
      ownerA: DENIED_BY_RULE,
      adminA: DENIED_BY_RULE,
      memberA: DENIED_BY_RULE,
      both: DENIED_BY_RULE,
      viewerA: H,
      memberB: H,
      token: H,
    },
  ),
  ...row(
    "model_versions",
    "update",
    "size of A's ready version",
    (w) => ["update public.model_versions set size_bytes = 1 where id = $1", [w.vReadyA]],
    { service: DENIED_BY_RULE, ownerA: DENIED_BY_RULE, memberA: DENIED_BY_RULE },
  ),
  ...row(
    "model_versions",
    "update",
    "file count of A's ready version",
    (w) => ["update public.model_versions set file_count = 7 where id = $1", [w.vReadyA]],
    { service: DENIED_BY_RULE, ownerA: DENIED_BY_RULE, memberA: DENIED_BY_RULE },
  ),
  ...row(
    "model_versions",
    "update",
    "tags of A's ready version",
    (w) => [`update public.model_versions set tags = '{"dataset": "other"}' where id = $1`, [w.vReadyA]],
    { service: DENIED_BY_RULE, ownerA: DENIED_BY_RULE, memberA: DENIED_BY_RULE },
  ),
  ...row(
    "model_versions",
    "update",
    "sha256 of A's quarantined version",
    (w) => ["update public.model_versions set sha256 = $2 where id = $1", [w.vQuarA, hash()]],
    { service: DENIED_BY_RULE, adminA: DENIED_BY_RULE },
  ),
  // Back to `pending` would make every column writable again (and skip the quarantine release).
  ...row(
    "model_versions",
    "update",
    "reopen A's ready version (back to pending)",
    (w) => ["update public.model_versions set status = 'pending' where id = $1", [w.vReadyA]],
    { service: DENIED_BY_RULE, ownerA: DENIED_BY_RULE, memberA: DENIED_BY_RULE },
  ),
  ...row(
    "model_versions",
    "update",
    "reopen A's quarantined version (back to pending)",
    (w) => ["update public.model_versions set status = 'pending' where id = $1", [w.vQuarA]],
    { memberA: DENIED_BY_RULE, adminA: DENIED_BY_RULE },
  ),
  ...row(
    "model_versions",
    "update",
    "release A's quarantined version",
    (w) => ["update public.model_versions set status = 'ready' where id = $1", [w.vQuarA]],
    { ownerA: A, adminA: A, holder: A, memberA: D, both: D, viewerA: H, token: H, memberB: H },
  ),
  ...row(
    "model_versions",
    "update",
    "retire A's ready version (uploaded by member of A)",
    (w) => ["update public.model_versions set status = 'deleted' where id = $1", [w.vReadyA]],
    { ownerA: A, adminA: A, memberA: A, both: D, viewerA: H, token: H, memberB: H, revoked: H },
  ),
  ...row(
    "model_versions",
    "update",
    "restore A's deleted version",
    (w) => ["update public.model_versions set status = 'ready' where id = $1", [w.vDeletedA]],
    { service: DENIED_BY_RULE, adminA: DENIED_BY_RULE },
  ),
  ...row(
    "model_versions",
    "update",
    "finish member of A's pending upload",
    (w) => ["update public.model_versions set status = 'ready', size_bytes = 10, sha256 = $2 where id = $1", [w.vPendingA, hash()]],
    { memberA: A, both: H, adminA: H, viewerA: H, token: H },
  ),

  ...row(
    "model_versions",
    "update",
    "B's ready version",
    (w) => ["update public.model_versions set status = 'quarantined' where id = $1", [w.vReadyB]],
    { memberA: H, ownerA: H, token: H, memberB: A },
  ),
  ...row(
    "model_versions",
    "delete",
    "abandon member of A's pending upload",
    (w) => ["delete from public.model_versions where id = $1", [w.vPendingA]],
    { anon: D, memberA: A, ownerA: H, adminA: H, viewerA: H, both: H, token: H, memberB: H },
  ),
  ...row("model_versions", "delete", "A's ready version", (w) => ["delete from public.model_versions where id = $1", [w.vReadyA]], {
    ownerA: H,
    adminA: H,
    memberA: H,
    service: A,
  }),

  // ---------------------------------------------------------------------------------------------
  // model_aliases
  ...row(
    "model_aliases",
    "select",
    "A's production alias",
    (w) => ["select 1 from public.model_aliases where model_id = $1 and alias = 'production'", [w.modelA]],
    SEES_A,
  ),
  ...row(
    "model_aliases",
    "select",
    "B's production alias",
    (w) => ["select 1 from public.model_aliases where model_id = $1 and alias = 'production'", [w.modelB]],
    SEES_B,
  ),
  ...nothingElse("model_aliases", "public.model_aliases", "org_id"),
  ...row(
    "model_aliases",
    "insert",
    "staging -> A's ready version",
    (w) => [
      "insert into public.model_aliases (model_id, alias, org_id, version_id) values ($1, 'staging', $2, $3)",
      [w.modelA, w.orgA, w.vReadyA],
    ],
    writersA(D),
  ),
  ...row(
    "model_aliases",
    "insert",
    "staging -> A's quarantined version",
    (w) => [
      "insert into public.model_aliases (model_id, alias, org_id, version_id) values ($1, 'staging', $2, $3)",
      [w.modelA, w.orgA, w.vQuarA],
    ],
    { memberA: DENIED_BY_CHECK },
  ),
  ...row(
    "model_aliases",
    "insert",
    "staging -> member of A's pending version",
    (w) => [
      "insert into public.model_aliases (model_id, alias, org_id, version_id) values ($1, 'staging', $2, $3)",
      [w.modelA, w.orgA, w.vPendingA],
    ],
    { memberA: DENIED_BY_CHECK },
  ),
  ...row(
    "model_aliases",
    "insert",
    "staging of A's model -> B's version",
    (w) => [
      "insert into public.model_aliases (model_id, alias, org_id, version_id) values ($1, 'staging', $2, $3)",
      [w.modelA, w.orgA, w.vReadyB],
    ],
    { memberA: DENIED_BY_CHECK, both: DENIED_BY_CHECK },
  ),
  ...row(
    "model_aliases",
    "insert",
    "staging -> B's ready version",
    (w) => [
      "insert into public.model_aliases (model_id, alias, org_id, version_id) values ($1, 'staging', $2, $3)",
      [w.modelB, w.orgB, w.vReadyB],
    ],
    { memberA: D, token: D, both: A },
  ),
  ...row(
    "model_aliases",
    "update",
    "move A's production alias",
    (w) => ["update public.model_aliases set version_id = $2 where model_id = $1 and alias = 'production'", [w.modelA, w.vReady2A]],
    writersA(H),
  ),
  ...row(
    "model_aliases",
    "delete",
    "A's production alias",
    (w) => ["delete from public.model_aliases where model_id = $1 and alias = 'production'", [w.modelA]],
    writersA(H),
  ),

  // ---------------------------------------------------------------------------------------------
  // model_alias_history: written by a trigger, append-only for everyone
  ...row(
    "model_alias_history",
    "select",
    "A's alias move",
    (w) => ["select 1 from public.model_alias_history where id = $1::bigint", [w.histA]],
    SEES_A,
  ),
  ...row(
    "model_alias_history",
    "select",
    "B's alias move",
    (w) => ["select 1 from public.model_alias_history where id = $1::bigint", [w.histB]],
    SEES_B,
  ),
  ...nothingElse("model_alias_history", "public.model_alias_history", "org_id"),
  ...row(
    "model_alias_history",
    "insert",
    "a forged move in A",
    (w) => ["insert into public.model_alias_history (model_id, org_id, alias) values ($1, $2, 'production')", [w.modelA, w.orgA]],
    everyone(D),
  ),
  ...row(
    "model_alias_history",
    "update",
    "A's alias move",
    (w) => ["update public.model_alias_history set to_version_id = null where id = $1::bigint", [w.histA]],
    { ...everyone(D), service: D },
  ),
  ...row(
    "model_alias_history",
    "delete",
    "A's alias move",
    (w) => ["delete from public.model_alias_history where id = $1::bigint", [w.histA]],
    { ...everyone(D), service: D },
  ),
  ...row("model_alias_history", "truncate", "the whole table", () => ["truncate public.model_alias_history"], {
    ...everyone(D),
    service: D,
  }),

  // ---------------------------------------------------------------------------------------------
  // audit_events: append-only for everyone; written through record_audit_event()
  ...row("audit_events", "select", "an event of A", (w) => ["select 1 from public.audit_events where id = $1::bigint", [w.auditA]], SEES_A),
  ...row("audit_events", "select", "an event of B", (w) => ["select 1 from public.audit_events where id = $1::bigint", [w.auditB]], SEES_B),
  ...row(
    "audit_events",
    "select",
    "member of A's own account event",
    (w) => ["select 1 from public.audit_events where id = $1::bigint", [w.auditAccountMemberA]],
    { memberA: A, ownerA: H, adminA: H, viewerA: H, both: H, token: H, memberB: H, anon: D },
  ),
  ...row(
    "audit_events",
    "select",
    "any event of another org than A (or of another account)",
    (w) => ["select 1 from public.audit_events where org_id is distinct from $1", [w.orgA]],
    { ownerA: H, adminA: H, viewerA: H, token: H },
  ),
  ...row(
    "audit_events",
    "select",
    "any event of another org than B (or of another account)",
    (w) => ["select 1 from public.audit_events where org_id is distinct from $1", [w.orgB]],
    { memberB: H },
  ),
  ...row("audit_events", "select", "any event at all", () => ["select 1 from public.audit_events"], { revoked: H }),
  ...row(
    "audit_events",
    "insert",
    "a forged event in A",
    (w) => ["insert into public.audit_events (org_id, actor_id, action) values ($1, auth.uid(), 'model.delete')", [w.orgA]],
    everyone(D),
  ),
  ...row(
    "audit_events",
    "update",
    "an event of A",
    (w) => ["update public.audit_events set action = 'model.view' where id = $1::bigint", [w.auditA]],
    { ...everyone(D), service: D },
  ),
  ...row("audit_events", "delete", "an event of A", (w) => ["delete from public.audit_events where id = $1::bigint", [w.auditA]], {
    ...everyone(D),
    service: D,
  }),
  ...row("audit_events", "truncate", "the whole table", () => ["truncate public.audit_events"], { ...everyone(D), service: D }),
  ...row("record_audit_event", "call", "an event in A", (w) => ["select public.record_audit_event($1, 'model.view')", [w.orgA]], {
    ...SEES_A,
    memberB: D,
    revoked: D,
  }),
  ...row("record_audit_event", "call", "an event in B", (w) => ["select public.record_audit_event($1, 'model.view')", [w.orgB]], {
    memberA: D,
    ownerA: D,
    token: D,
    holder: A,
    both: A,
    memberB: A,
  }),
  ...row("record_audit_event", "call", "an account event (no org)", () => ["select public.record_audit_event(null, 'account.view')"], {
    anon: D,
    revoked: A,
    memberA: A,
    token: A,
  }),

  // ---------------------------------------------------------------------------------------------
  // api_tokens
  ...row("api_tokens", "select", "member of A's token", (w) => ["select id from public.api_tokens where id = $1", [w.tokMemberA]], {
    anon: D,
    memberA: A,
    ownerA: A,
    adminA: A,
    holder: A,
    viewerA: H,
    both: H,
    memberB: H,
    revoked: H,
    token: H,
  }),
  ...row("api_tokens", "select", "the calling token itself", (w) => ["select id from public.api_tokens where id = $1", [w.tokHolderA]], {
    token: A,
    holder: A,
    memberA: H,
  }),
  ...row("api_tokens", "select", "B token of the token's user", (w) => ["select id from public.api_tokens where id = $1", [w.tokHolderB]], {
    holder: A,
    ownerB: A,
    memberB: H,
    both: H,
    ownerA: H,
    token: H,
  }),
  ...row(
    "api_tokens",
    "select",
    "the revoked member's own token in A",
    (w) => ["select id from public.api_tokens where id = $1", [w.tokOfRevokedUser]],
    { revoked: H, ownerA: A, adminA: A, memberA: H },
  ),
  ...nothingElse("api_tokens", "public.api_tokens", "org_id"),
  // Viewers read; they do not hand out credentials, not even viewer ones (docs/decisions.md).
  ...row("api_tokens", "insert", "a viewer token for A", newToken("orgA", "viewer"), {
    anon: D,
    ownerA: A,
    adminA: A,
    memberA: A,
    viewerA: D,
    memberB: D,
    revoked: D,
    both: A,
    holder: A,
    token: D,
  }),
  ...row("api_tokens", "insert", "a member token for A", newToken("orgA", "member"), { viewerA: D, memberA: A, both: A, token: D }),
  ...row("api_tokens", "insert", "an admin token for A", newToken("orgA", "admin"), { memberA: D, viewerA: D, adminA: A, ownerA: A }),
  ...row("api_tokens", "insert", "an owner token for A", newToken("orgA", "owner"), {
    ...everyone(D),
    ownerA: DENIED_BY_CHECK,
    holder: DENIED_BY_CHECK,
  }),
  ...row(
    "api_tokens",
    "insert",
    "an owner token for A, for owner of A",
    newToken("orgA", "owner", (w) => w.users.ownerA.id),
    { service: DENIED_BY_CHECK },
  ),
  ...row(
    "api_tokens",
    "insert",
    "a token for A in member of A's name",
    newToken("orgA", "viewer", (w) => w.users.memberA.id),
    { adminA: D, ownerA: D },
  ),
  ...row("api_tokens", "insert", "a member token for B", newToken("orgB", "member"), { memberA: D, holder: A, token: D, memberB: A }),
  ...row(
    "api_tokens",
    "update",
    "revoke member of A's token",
    (w) => ["update public.api_tokens set revoked_at = now() where id = $1", [w.tokMemberA]],
    { anon: D, memberA: A, ownerA: A, adminA: A, holder: A, viewerA: H, both: H, memberB: H, revoked: H, token: H },
  ),
  ...row(
    "api_tokens",
    "update",
    "revoke the token's user's B token",
    (w) => ["update public.api_tokens set revoked_at = now() where id = $1", [w.tokHolderB]],
    { token: H, holder: A },
  ),
  // Without a WHERE clause only the update policy filters: the token reaches its own A token, nothing in B.
  ...row(
    "api_tokens",
    "update",
    "revoke every token the policy lets me (no WHERE)",
    () => ["update public.api_tokens set revoked_at = now()"],
    { token: A },
  ),
  ...row(
    "api_tokens",
    "update",
    "un-revoke member of A's revoked token",
    (w) => ["update public.api_tokens set revoked_at = null where id = $1", [w.tokRevokedA]],
    { memberA: H, adminA: H, ownerA: H },
  ),
  ...row(
    "api_tokens",
    "update",
    "the revoked member's own token",
    (w) => ["update public.api_tokens set revoked_at = now() where id = $1", [w.tokOfRevokedUser]],
    { revoked: H },
  ),
  ...row(
    "api_tokens",
    "update",
    "rename member of A's token",
    (w) => ["update public.api_tokens set name = 'x' where id = $1", [w.tokMemberA]],
    { memberA: D, adminA: D },
  ),
  ...row(
    "api_tokens",
    "update",
    "extend member of A's token",
    (w) => ["update public.api_tokens set expires_at = now() + interval '10 years' where id = $1", [w.tokMemberA]],
    { memberA: D },
  ),
  ...row(
    "api_tokens",
    "delete",
    "member of A's token",
    (w) => ["delete from public.api_tokens where id = $1", [w.tokMemberA]],
    everyone(D),
  ),

  // resolve_api_token(): called as anon before the request has a user.
  ...row(
    "resolve_api_token",
    "call",
    "member of A's active token",
    (w) => ["select * from public.resolve_api_token($1)", [w.hashes.memberA]],
    { anon: A, memberA: A },
  ),
  ...row(
    "resolve_api_token",
    "call",
    "the viewer token for A resolves to viewer in A, its user",
    (w) => [
      "select 1 from public.resolve_api_token($1) where org_id = $2 and role = 'viewer' and user_id = $3",
      [w.hashes.holderA, w.orgA, w.users.holder.id],
    ],
    { anon: A },
  ),
  ...row("resolve_api_token", "call", "a revoked token", (w) => ["select * from public.resolve_api_token($1)", [w.hashes.revokedA]], {
    anon: H,
  }),
  ...row("resolve_api_token", "call", "an expired token", (w) => ["select * from public.resolve_api_token($1)", [w.hashes.expiredA]], {
    anon: H,
  }),
  ...row(
    "resolve_api_token",
    "call",
    "a token whose user left the org",
    (w) => ["select * from public.resolve_api_token($1)", [w.hashes.ofRevokedUser]],
    { anon: H },
  ),
  ...row("resolve_api_token", "call", "an unknown hash", () => ["select * from public.resolve_api_token($1)", [hash()]], { anon: H }),

  // ---------------------------------------------------------------------------------------------
  // add_member_by_email()
  ...row(
    "add_member_by_email",
    "call",
    "add an outsider to A as member",
    (w) => ["select public.add_member_by_email($1, $2, 'member')", [w.orgA, w.users.outsider.email]],
    adminsA(D),
  ),
  ...row(
    "add_member_by_email",
    "call",
    "add an outsider to A as owner",
    (w) => ["select public.add_member_by_email($1, $2, 'owner')", [w.orgA, w.users.outsider.email]],
    { ownerA: A, holder: A, adminA: D },
  ),
  ...row(
    "add_member_by_email",
    "call",
    "add an unknown e-mail to A",
    (w) => ["select public.add_member_by_email($1, 'nobody@rls.test', 'member')", [w.orgA]],
    { adminA: "denied:P0002" },
  ),
  ...row(
    "add_member_by_email",
    "call",
    "add member of A again",
    (w) => ["select public.add_member_by_email($1, $2, 'viewer')", [w.orgA, w.users.memberA.email]],
    { adminA: "denied:23505" },
  ),
  ...row(
    "add_member_by_email",
    "call",
    "add an outsider to B",
    (w) => ["select public.add_member_by_email($1, $2, 'member')", [w.orgB, w.users.outsider.email]],
    { adminA: D, holder: D, token: D, ownerB: A },
  ),

  // ---------------------------------------------------------------------------------------------
  // blobs: an organization's stored contents. Members see stored ones; pending ones only their
  // uploader; only the server stores them; stored ones never change.
  ...nothingElse("blobs", "public.blobs", "org_id"),
  ...row("blobs", "select", "A's stored blob", (w) => ["select id from public.blobs where id = $1", [w.blobReadyA]], SEES_A),
  ...row("blobs", "select", "member of A's pending blob", (w) => ["select id from public.blobs where id = $1", [w.blobPendingA]], {
    memberA: A,
    ownerA: H,
    adminA: H,
    viewerA: H,
    both: H,
    token: H,
    memberB: H,
  }),
  ...row("blobs", "select", "B's stored blob", (w) => ["select id from public.blobs where id = $1", [w.blobB]], SEES_B),
  ...row(
    "blobs",
    "insert",
    "a pending blob under A's folder",
    (w) => [
      "insert into public.blobs (org_id, object_key, created_by) values ($1, $2, auth.uid())",
      [w.orgA, `${ORG_A_SLUG}/blobs/aa/${crypto.randomUUID()}`],
    ],
    writersA(D),
  ),
  ...row(
    "blobs",
    "insert",
    "a blob of A whose key is in B's folder",
    (w) => ["insert into public.blobs (org_id, object_key, created_by) values ($1, $2, auth.uid())", [w.orgA, `${ORG_B_SLUG}/blobs/aa/x`]],
    { memberA: D, both: D, holder: D },
  ),
  ...row(
    "blobs",
    "insert",
    "a blob of A whose key has no folder",
    (w) => ["insert into public.blobs (org_id, object_key, created_by) values ($1, 'loose.bin', auth.uid())", [w.orgA]],
    { memberA: D, ownerA: D },
  ),
  ...row(
    "blobs",
    "insert",
    "a blob of A that is stored at once",
    (w) => [
      "insert into public.blobs (org_id, object_key, created_by, status, size_bytes, sha256) values ($1, $2, auth.uid(), 'stored', 1, $3)",
      [w.orgA, `${ORG_A_SLUG}/blobs/aa/${crypto.randomUUID()}`, hash()],
    ],
    { memberA: D, ownerA: D },
  ),
  ...row(
    "blobs",
    "update",
    "store member of A's pending blob (through the app's server; server-only-transitions tests the Data API)",
    (w) => ["update public.blobs set status = 'stored', size_bytes = 1, sha256 = $2 where id = $1", [w.blobPendingA, hash()]],
    { memberA: A, ownerA: H, adminA: H, viewerA: H },
  ),
  ...row(
    "blobs",
    "update",
    "sha256 of A's stored blob",
    (w) => ["update public.blobs set sha256 = $2 where id = $1", [w.blobReadyA, hash()]],
    { service: DENIED_BY_RULE, ownerA: H, memberA: H },
  ),
  ...row(
    "blobs",
    "update",
    "move member of A's pending blob into B's folder",
    (w) => ["update public.blobs set object_key = $2 where id = $1", [w.blobPendingA, `${ORG_B_SLUG}/blobs/aa/x`]],
    { memberA: D },
  ),
  ...row(
    "blobs",
    "update",
    "mark A's stored blob purged",
    (w) => ["update public.blobs set purged_at = now() where id = $1", [w.blobReadyA]],
    { ownerA: H, memberA: H },
  ),
  // (A file of the pending version still points at it: the abandon path deletes the version first.)
  ...row("blobs", "delete", "member of A's pending blob", (w) => ["delete from public.blobs where id = $1", [w.blobPendingA]], {
    memberA: "denied:23503",
    ownerA: H,
    adminA: H,
    viewerA: H,
  }),
  ...row("blobs", "delete", "A's stored blob", (w) => ["delete from public.blobs where id = $1", [w.blobReadyA]], {
    ownerA: H,
    adminA: H,
    memberA: H,
    service: "denied:23503",
  }),

  // ---------------------------------------------------------------------------------------------
  // version_files: a version's files, fixed once it leaves pending.
  ...nothingElse("version_files", "public.version_files", "org_id"),
  ...row(
    "version_files",
    "select",
    "the file of A's ready version",
    (w) => ["select 1 from public.version_files where version_id = $1", [w.vReadyA]],
    SEES_A,
  ),
  ...row(
    "version_files",
    "select",
    "the file of member of A's pending version",
    (w) => ["select 1 from public.version_files where version_id = $1", [w.vPendingA]],
    { memberA: A, ownerA: H, adminA: H, viewerA: H, token: H },
  ),
  ...row(
    "version_files",
    "insert",
    "a file in member of A's pending version, pointing at A's stored blob",
    (w) => [
      "insert into public.version_files (version_id, path, org_id, blob_id) values ($1, 'extra.bin', $2, $3)",
      [w.vPendingA, w.orgA, w.blobReadyA],
    ],
    { memberA: A, ownerA: D, adminA: D, viewerA: D, token: D },
  ),
  ...row(
    "version_files",
    "insert",
    "a file in member of A's pending version, pointing at B's blob",
    (w) => [
      "insert into public.version_files (version_id, path, org_id, blob_id) values ($1, 'extra.bin', $2, $3)",
      [w.vPendingA, w.orgA, w.blobB],
    ],
    { memberA: D, both: D },
  ),
  ...row(
    "version_files",
    "insert",
    "a file with a path that climbs out of the folder",
    (w) => [
      "insert into public.version_files (version_id, path, org_id, blob_id) values ($1, '../x.bin', $2, $3)",
      [w.vPendingA, w.orgA, w.blobReadyA],
    ],
    { memberA: DENIED_BY_CHECK },
  ),
  ...row(
    "version_files",
    "insert",
    "a file added to A's ready version",
    (w) => [
      "insert into public.version_files (version_id, path, org_id, blob_id) values ($1, 'extra.bin', $2, $3)",
      [w.vReadyA, w.orgA, w.blobReadyA],
    ],
    { memberA: DENIED_BY_RULE, ownerA: DENIED_BY_RULE, service: DENIED_BY_RULE },
  ),
  ...row(
    "version_files",
    "update",
    "point A's ready version's file at another blob",
    (w) => ["update public.version_files set blob_id = $2 where version_id = $1", [w.vReadyA, w.blobPendingA]],
    { memberA: H, ownerA: H, service: DENIED_BY_RULE },
  ),
  ...row(
    "version_files",
    "delete",
    "A's ready version's file",
    (w) => ["delete from public.version_files where version_id = $1", [w.vReadyA]],
    { memberA: H, ownerA: H, service: DENIED_BY_RULE },
  ),
  ...row(
    "version_files",
    "delete",
    "member of A's pending version's file",
    (w) => ["delete from public.version_files where version_id = $1", [w.vPendingA]],
    { memberA: A, ownerA: H, viewerA: H },
  ),

  // ---------------------------------------------------------------------------------------------
  // storage.objects, bucket ai-models: <org_slug>/<file>
  ...row(
    "storage.objects",
    "select",
    "A's ready model file",
    (w) => ["select id from storage.objects where id = $1", [w.objReadyA]],
    SEES_A,
  ),
  ...row(
    "storage.objects",
    "select",
    "A's quarantined model file",
    (w) => ["select id from storage.objects where id = $1", [w.objQuarA]],
    adminsA(H),
  ),
  ...row(
    "storage.objects",
    "select",
    "A's pending upload's file (memberA's, leased)",
    (w) => ["select id from storage.objects where id = $1", [w.objPendingA]],
    // Its uploader reads it: Storage asks this policy to finish a resumable upload and to delete.
    { ownerA: A, adminA: A, memberA: A, viewerA: H, both: H, token: H },
  ),
  ...row(
    "storage.objects",
    "select",
    "a file memberA's pending commit already stored",
    (w) => ["select id from storage.objects where id = $1", [w.objCommitA]],
    // Completing the commit reads it back as its uploader (layout: configs, safetensors headers).
    { ownerA: A, adminA: A, memberA: A, viewerA: H, both: H, token: H, memberB: H },
  ),
  ...row(
    "storage.objects",
    "select",
    "A's stale upload's file (memberA's, lease expired)",
    (w) => ["select id from storage.objects where id = $1", [w.objStaleA]],
    // Still its uploader's until someone takes the version over (that deletes the pending blob).
    { ownerA: A, adminA: A, memberA: A, viewerA: H },
  ),
  ...row(
    "storage.objects",
    "select",
    "A's deleted version's file",
    (w) => ["select id from storage.objects where id = $1", [w.objDeletedA]],
    { ownerA: A, adminA: A, memberA: H, viewerA: H, token: H },
  ),
  ...row("storage.objects", "select", "B's model file", (w) => ["select id from storage.objects where id = $1", [w.objB]], SEES_B),
  ...row(
    "storage.objects",
    "select",
    "a file of an org that does not exist",
    (w) => ["select id from storage.objects where id = $1", [w.objGhost]],
    { anon: D, ownerA: H, adminA: H, memberA: H, memberB: H, both: H, holder: H, token: H },
  ),
  ...row(
    "storage.objects",
    "select",
    "a file under A's folder in another bucket",
    (w) => ["select id from storage.objects where id = $1", [w.objOtherBucket]],
    { ownerA: H, adminA: H, memberA: H, holder: H, token: H },
  ),
  ...row(
    "storage.objects",
    "select",
    "anything outside A's folder of ai-models",
    () => ["select 1 from storage.objects where not (bucket_id = $1 and name like $2)", [BUCKET, `${ORG_A_SLUG}/%`]],
    { ownerA: H, adminA: H, memberA: H, viewerA: H, token: H },
  ),
  ...row(
    "storage.objects",
    "select",
    "anything outside B's folder of ai-models",
    () => ["select 1 from storage.objects where not (bucket_id = $1 and name like $2)", [BUCKET, `${ORG_B_SLUG}/%`]],
    { memberB: H },
  ),
  ...row("storage.objects", "select", "any file at all", () => ["select 1 from storage.objects"], { revoked: H }),
  // Writes: only the exact key of one's own pending, leased reservation (Storage's direct upload and
  // tus); any other key in the organization's folder would bypass the scan and block the real upload.
  ...row(
    "storage.objects",
    "insert",
    "the key of memberA's own leased reservation",
    () => [
      "insert into storage.objects (bucket_id, name, owner_id) values ($1, $2, auth.uid()::text)",
      [BUCKET, `${ORG_A_SLUG}/model_a_v1.2.0.bin`],
    ],
    { anon: D, memberA: A, ownerA: D, adminA: D, viewerA: D, both: D, holder: D, token: D, memberB: D, revoked: D },
  ),
  ...row(
    "storage.objects",
    "insert",
    "the key of memberA's reservation whose lease expired",
    () => [
      "insert into storage.objects (bucket_id, name, owner_id) values ($1, $2, auth.uid()::text)",
      [BUCKET, `${ORG_A_SLUG}/model_a_v1.3.0.bin`],
    ],
    // A direct upload to Storage never renews the lease: the key stays its uploader's while pending
    // (here an object is already there, so the insert is refused by the unique key, not by RLS).
    { memberA: "denied:23505", adminA: D },
  ),
  ...row(
    "storage.objects",
    "insert",
    "the key of a ready version (over it: a duplicate; beside it: no reservation)",
    () => [
      "insert into storage.objects (bucket_id, name, owner_id) values ($1, $2, auth.uid()::text)",
      [BUCKET, `${ORG_A_SLUG}/model_a_v2.0.0.bin`],
    ],
    { memberA: D, adminA: D, ownerA: D },
  ),
  ...row(
    "storage.objects",
    "insert",
    "the key of a file memberA's pending commit already stored",
    () => [
      "insert into storage.objects (bucket_id, name, owner_id) values ($1, $2, auth.uid()::text)",
      [BUCKET, `${ORG_A_SLUG}/model_a_v1.4.0.bin`],
    ],
    { memberA: D, adminA: D },
  ),
  ...row(
    "storage.objects",
    "insert",
    "any other key in A's folder",
    () => ["insert into storage.objects (bucket_id, name, owner_id) values ($1, $2, auth.uid()::text)", [BUCKET, `${ORG_A_SLUG}/new.bin`]],
    { anon: D, ownerA: D, adminA: D, memberA: D, viewerA: D, memberB: D, revoked: D, both: D, holder: D, token: D },
  ),
  ...row(
    "storage.objects",
    "insert",
    "a file in B's folder",
    () => ["insert into storage.objects (bucket_id, name, owner_id) values ($1, $2, auth.uid()::text)", [BUCKET, `${ORG_B_SLUG}/new.bin`]],
    { memberA: D, ownerA: D, token: D, both: D, holder: D, memberB: D },
  ),
  ...row(
    "storage.objects",
    "insert",
    "the key of memberA's own reservation in another bucket",
    () => [
      "insert into storage.objects (bucket_id, name, owner_id) values ($1, $2, auth.uid()::text)",
      [OTHER_BUCKET, `${ORG_A_SLUG}/model_a_v1.2.0.bin`],
    ],
    { memberA: D },
  ),
  ...row(
    "storage.objects",
    "insert",
    "a file in the folder of an org that does not exist",
    () => ["insert into storage.objects (bucket_id, name, owner_id) values ($1, 'ghost_org/new.bin', auth.uid()::text)", [BUCKET]],
    { ownerA: D, memberA: D, both: D },
  ),
  ...row(
    "storage.objects",
    "insert",
    "a file with no folder",
    () => ["insert into storage.objects (bucket_id, name, owner_id) values ($1, 'new.bin', auth.uid()::text)", [BUCKET]],
    { ownerA: D },
  ),
  ...row(
    "storage.objects",
    "insert",
    "a file under A's folder in another bucket",
    () => [
      "insert into storage.objects (bucket_id, name, owner_id) values ($1, $2, auth.uid()::text)",
      [OTHER_BUCKET, `${ORG_A_SLUG}/new.bin`],
    ],
    { ownerA: D, memberA: D },
  ),
  // No update policy: stored model files are never overwritten, not even by owners.
  ...row(
    "storage.objects",
    "update",
    "A's ready model file",
    (w) => ["update storage.objects set metadata = '{\"size\": 1}' where id = $1", [w.objReadyA]],
    everyone(H),
  ),
  ...row(
    "storage.objects",
    "delete",
    "A's ready model file (uploaded by member of A)",
    (w) => ["delete from storage.objects where id = $1", [w.objReadyA]],
    { anon: D, ownerA: A, adminA: A, memberA: A, holder: A, both: H, viewerA: H, memberB: H, revoked: H, token: H },
  ),
  ...row(
    "storage.objects",
    "delete",
    "the revoked member's own file in A",
    (w) => ["delete from storage.objects where id = $1", [w.objOfRevokedA]],
    { revoked: H, adminA: A },
  ),
  ...row("storage.objects", "delete", "B's model file", (w) => ["delete from storage.objects where id = $1", [w.objB]], {
    memberA: H,
    ownerA: H,
    token: H,
    memberB: A,
  }),
  ...row(
    "storage.objects",
    "delete",
    "a file of an org that does not exist",
    (w) => ["delete from storage.objects where id = $1", [w.objGhost]],
    { ownerA: H, memberA: H },
  ),
  ...row(
    "storage.objects",
    "delete",
    "a file under A's folder in another bucket",
    (w) => ["delete from storage.objects where id = $1", [w.objOtherBucket]],
    { ownerA: H, memberA: H },
  ),
  // ---------------------------------------------------------------------------------------------
  // protected_aliases (issue #15): admins keep the list; every member reads it
  ...row(
    "protected_aliases",
    "insert",
    "protect an alias name in A",
    (w) => ["insert into public.protected_aliases (org_id, alias) values ($1, 'golden')", [w.orgA]],
    adminsA(D),
  ),
  ...row(
    "protected_aliases",
    "insert",
    "protect an alias name in B",
    (w) => ["insert into public.protected_aliases (org_id, alias) values ($1, 'golden')", [w.orgB]],
    { ownerA: D, adminA: D, ownerB: A, memberB: D, token: D },
  ),
  ...row(
    "protected_aliases",
    "select",
    "B's protected names (none in the fixture: a read, never an error)",
    (w) => ["select 1 from public.protected_aliases where org_id = $1", [w.orgB]],
    everyone(H),
  ),

  // ---------------------------------------------------------------------------------------------
  // org_invitations (issue #15): admins invite (owners invite owners), naming themselves as inviter
  ...row(
    "org_invitations",
    "insert",
    "invite a viewer to A",
    (w) => [
      "insert into public.org_invitations (org_id, email, role, token_hash, invited_by) values ($1, 'new@example.com', 'viewer', $2, auth.uid())",
      [w.orgA, crypto.randomBytes(32).toString("hex")],
    ],
    adminsA(D),
  ),
  ...row(
    "org_invitations",
    "insert",
    "invite an owner to A",
    (w) => [
      "insert into public.org_invitations (org_id, email, role, token_hash, invited_by) values ($1, 'new@example.com', 'owner', $2, auth.uid())",
      [w.orgA, crypto.randomBytes(32).toString("hex")],
    ],
    { ownerA: A, adminA: D, memberA: D, holder: A },
  ),
  ...row(
    "org_invitations",
    "insert",
    "invite to A in someone else's name",
    (w) => [
      "insert into public.org_invitations (org_id, email, role, token_hash, invited_by) values ($1, 'new@example.com', 'viewer', $2, $3)",
      [w.orgA, crypto.randomBytes(32).toString("hex"), w.users.ownerA.id],
    ],
    { adminA: D },
  ),
  ...row(
    "org_invitations",
    "call",
    "accept_org_invitation with an unknown token hash",
    () => ["select * from public.accept_org_invitation($1)", ["0".repeat(64)]],
    { anon: D, memberA: "denied:P0002", token: D },
  ),
];
