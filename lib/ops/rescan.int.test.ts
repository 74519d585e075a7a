import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { fixture, makeWorld, type World } from "@/test/world";
import { rescanVersions } from "./rescan";

describe.each(DB_KINDS)("rescan on %s", (kind) => {
  let t: TestDatabase;
  let w: World;
  beforeAll(async () => {
    t = await openTestDatabase(kind);
    w = await makeWorld(t.db);
    for (const [model, file] of [
      ["good", "credit_risk_v2.1.pkl"],
      ["evil", "malicious_os_system.pkl"],
    ] as const) {
      await w.services.uploads.uploadVersion(w.users.member, {
        org: w.orgs.a.slug,
        model,
        version: "1.0",
        fileName: file,
        body: fs.createReadStream(fixture(file)),
      });
    }
  });
  afterAll(async () => {
    w?.cleanup();
    await t?.cleanup();
  });

  it("changes nothing when the rules did not change", async () => {
    const s = await rescanVersions(t.db, w.store, { org: w.orgs.a.slug });
    expect(s).toMatchObject({ scanned: 2, changed: [], failed: [] });
  });

  it("quarantines a version the rules now call dangerous, and audits it; releases only when asked", async () => {
    // Simulate an older scanner that had called the malicious file safe.
    await t.db.query("update public.model_versions set status = 'ready', scan_verdict = 'safe' where object_key like '%evil_v1.0.pkl'");
    const dry = await rescanVersions(t.db, w.store, { org: w.orgs.a.slug, dryRun: true });
    expect(dry.changed.map((c) => [c.key.split("/")[1], c.to])).toEqual([["evil_v1.0.pkl", "dangerous/quarantined"]]);
    const { rows: still } = await t.db.query<{ status: string }>(
      "select status from public.model_versions where object_key like '%evil_v1.0.pkl'",
    );
    expect(still[0]!.status).toBe("ready");
    await rescanVersions(t.db, w.store, { org: w.orgs.a.slug });
    const { rows } = await t.db.query<{ status: string; scan_verdict: string }>(
      "select status, scan_verdict from public.model_versions where object_key like '%evil_v1.0.pkl'",
    );
    expect(rows[0]).toEqual({ status: "quarantined", scan_verdict: "dangerous" });
    const { rows: audit } = await t.db.query<{ n: number }>(
      "select count(*)::int as n from public.audit_events where action = 'version.rescan' and org_id = $1",
      [w.orgs.a.id],
    );
    expect(audit[0]!.n).toBe(1);
  });

  it("reports a file it cannot read instead of stopping", async () => {
    fs.rmSync(`${w.config.storageDir}/${w.config.bucket}/${w.orgs.a.slug}/good_v1.0.pkl`);
    const s = await rescanVersions(t.db, w.store, { org: w.orgs.a.slug });
    expect(s.failed.map((f) => f.key)).toEqual([`${w.orgs.a.slug}/good_v1.0.pkl`]);
  });
});
