import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";

// What a Supabase Data API caller could try with their own token: the same role and claims as our
// server's transactions, but without the server's fairmind.via marker.
describe.each(DB_KINDS)("server-only transitions on %s", (kind) => {
  let t: TestDatabase;
  const user = crypto.randomUUID();
  const org = crypto.randomUUID();
  const model = crypto.randomUUID();
  const version = crypto.randomUUID();
  const blob = crypto.randomUUID();

  beforeAll(async () => {
    t = await openTestDatabase(kind);
    await t.db.exec(`
      insert into auth.users (id, email) values ('${user}', 'u@test');
      insert into public.organizations (id, slug, name) values ('${org}', 'srv_org', 'Org');
      insert into public.memberships (org_id, user_id, role) values ('${org}', '${user}', 'owner');
      insert into public.models (id, org_id, slug, name) values ('${model}', '${org}', 'm', 'M');
      insert into public.model_versions (id, org_id, model_id, version, created_by)
        values ('${version}', '${org}', '${model}', '1.0', '${user}');
      insert into public.blobs (id, org_id, object_key, upload_version_id, created_by)
        values ('${blob}', '${org}', 'srv_org/blobs/aa/${blob}', '${version}', '${user}');`);
  });
  afterAll(() => t.cleanup());

  const asUser = (sql: string, viaServer: boolean) =>
    t.db
      .transaction(async (tx) => {
        await tx.query(
          `select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)${viaServer ? ", set_config('fairmind.via', 'server', true)" : ""}`,
          [JSON.stringify({ sub: user, role: "authenticated" })],
        );
        const r = await tx.query(sql);
        throw Object.assign(new Error("rollback"), { rowCount: r.rowCount });
      })
      .catch((e: Error & { rowCount?: number; code?: string }) => (e.message === "rollback" ? `ok:${e.rowCount}` : `error:${e.code}`));

  const finish = `update public.model_versions set status = 'ready', size_bytes = 1, sha256 = repeat('a', 64) where id = '${version}'`;
  const forge = `select public.record_audit_event('${org}', 'version.download', null, null, null, null, 999999999)`;

  it("a direct caller cannot finish an upload; the server can", async () => {
    expect(await asUser(finish, false)).toBe("error:42501");
    expect(await asUser(finish, true)).toBe("ok:1");
  });

  it("a direct caller cannot mark a blob stored (bytes nobody verified); the server can", async () => {
    const store = `update public.blobs set status = 'stored', size_bytes = 1, sha256 = repeat('b', 64) where id = '${blob}'`;
    expect(await asUser(store, false)).toBe("error:42501");
    expect(await asUser(store, true)).toBe("ok:1");
  });

  it("a direct caller cannot record audit events (forged downloads); the server can", async () => {
    expect(await asUser(forge, false)).toBe("error:42501");
    expect(await asUser(forge, true)).toBe("ok:1");
  });
});
