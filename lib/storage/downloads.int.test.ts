import fs from "node:fs";
import type { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { errorCode as code, fixture, makeWorld, type World } from "@/test/world";

const read = async (s: Readable) => {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

describe.each(DB_KINDS)("downloads on %s", (kind) => {
  let t: TestDatabase;
  const worlds: World[] = [];
  const world = async (opts: Parameters<typeof makeWorld>[1] = {}) => {
    const w = await makeWorld(t.db, opts);
    worlds.push(w);
    return w;
  };
  beforeAll(async () => {
    t = await openTestDatabase(kind);
  });
  afterEach(() => {
    for (const w of worlds.splice(0)) w.cleanup();
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it("downloads with ranges and records audit + egress", async () => {
    const w = await world();
    await w.upload("member", "credit_risk", "2.1");
    const full = fs.readFileSync(fixture("credit_risk_v2.1.pkl"));
    const d = await w.services.downloads.openDownload(w.users.viewer, w.orgs.a.slug, "credit_risk", "2.1", {}, { ip: "10.0.0.1" });
    expect(Buffer.compare(await read(d.stream), full)).toBe(0);
    const part = await w.services.downloads.openDownload(w.users.viewer, w.orgs.a.slug, "credit_risk", "2.1", {
      range: { start: 10, end: 19 },
    });
    expect(Buffer.compare(await read(part.stream), full.subarray(10, 20))).toBe(0);
    expect([part.start, part.end, part.size]).toEqual([10, 19, full.length]);
    await Promise.all([d.recorded, part.recorded]);
    const { rows } = await t.db.query<{ bytes: number; ip: string }>(
      "select bytes, ip from public.audit_events where action = 'version.download' and org_id = $1 order by id",
      [w.orgs.a.id],
    );
    expect(rows.map((r) => r.bytes)).toEqual([full.length, 10]);
    expect(rows[0]!.ip).toBe("10.0.0.1");
  });

  it("keeps outsiders out: another org's versions are 404", async () => {
    const w = await world();
    await w.upload("member", "credit_risk", "2.1");
    expect(await code(w.services.catalog.getModel(w.users.outsider, w.orgs.a.slug, "credit_risk"))).toBe("not_found");
    expect(await code(w.services.downloads.openDownload(w.users.outsider, w.orgs.a.slug, "credit_risk", "2.1"))).toBe("not_found");
    expect((await w.services.catalog.listOrgs(w.users.outsider)).map((o) => o.slug)).toEqual([w.orgs.b.slug]);
  });

  it("reads a file from the store its blob's storage_backend names (supabase mode: not yet migrated = local disk)", async () => {
    const cloudAsked: string[] = [];
    const w = await world({
      platform: (p) => ({
        ...p,
        blobs: {
          ...p.blobs,
          forVersion: async (principal, backend) => {
            if (backend === "local") return p.blobs.local();
            return {
              ...p.blobs.local(),
              kind: "supabase" as const,
              get: async (key: string) => {
                cloudAsked.push(key);
                throw new AppError("unavailable", "the Supabase stand-in was asked");
              },
            };
          },
        },
      }),
    });
    const v = await w.upload("member", "credit_risk", "2.1");
    const d = await w.services.downloads.openDownload(w.users.viewer, w.orgs.a.slug, "credit_risk", "2.1");
    expect((await read(d.stream)).length).toBe(d.size);
    const key = await w.keyOf(v);
    await t.db.query("update public.blobs set storage_backend = 'supabase' where object_key = $1", [key]);
    expect(await code(w.services.downloads.openDownload(w.users.viewer, w.orgs.a.slug, "credit_risk", "2.1"))).toBe("unavailable");
    expect(cloudAsked).toEqual([key]);
  });

  it("quarantined versions: only admins who acknowledge the risk may download", async () => {
    const w = await world();
    const v = await w.upload("member", "evil", "1.0", "malicious_os_system.pkl");
    const dl = w.services.downloads;
    expect(await code(dl.openDownload(w.users.member, w.orgs.a.slug, "evil", "1.0", { acknowledgeRisk: true }))).toBe("quarantined");
    expect(await code(dl.openDownload(w.users.admin, w.orgs.a.slug, "evil", "1.0"))).toBe("quarantined");
    const d = await dl.openDownload(w.users.admin, w.orgs.a.slug, "evil", "1.0", { acknowledgeRisk: true });
    expect((await read(d.stream)).length).toBe(v.size_bytes);
  });
});
