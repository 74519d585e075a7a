import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withService } from "@/lib/db/client";
import type { ModelVersion } from "@/lib/storage/types";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { fixture, makeWorld, type World } from "@/test/world";
import { rescanVersions } from "./rescan";

describe.each(DB_KINDS)("rescan on %s", (kind) => {
  let t: TestDatabase;
  let w: World;
  const v: Record<string, ModelVersion> = {};
  const status = async (id: string) =>
    (
      await t.db.query<{ status: string; scan_verdict: string }>("select status, scan_verdict from public.model_versions where id = $1", [
        id,
      ])
    ).rows[0];
  beforeAll(async () => {
    t = await openTestDatabase(kind);
    w = await makeWorld(t.db);
    for (const [model, file] of [
      ["good", "credit_risk_v2.1.pkl"],
      ["evil", "malicious_os_system.pkl"],
    ] as const) {
      v[model] = await w.services.uploads.uploadVersion(w.users.member, {
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
    expect(s).toMatchObject({ scanned: 2, blobsChanged: 0, changed: [], failed: [] });
  });

  it("quarantines a version the rules now call dangerous, and audits it; releases only when asked", async () => {
    // Simulate an older scanner that had called the malicious file safe (its blob and its version).
    await withService(t.db, async (tx) => {
      await tx.query(
        "update public.blobs set scan_verdict = 'safe' where id in (select blob_id from public.version_files where version_id = $1)",
        [v.evil!.id],
      );
      await tx.query("update public.model_versions set status = 'ready', scan_verdict = 'safe' where id = $1", [v.evil!.id]);
    });
    const dry = await rescanVersions(t.db, w.store, { org: w.orgs.a.slug, dryRun: true });
    expect(dry.changed.map((c) => [c.key, c.to])).toEqual([[`${w.orgs.a.slug}/evil@1.0`, "dangerous/quarantined"]]);
    expect(dry.blobsChanged).toBe(1);
    expect((await status(v.evil!.id))?.status).toBe("ready");
    await rescanVersions(t.db, w.store, { org: w.orgs.a.slug });
    expect(await status(v.evil!.id)).toEqual({ status: "quarantined", scan_verdict: "dangerous" });
    const { rows: blob } = await t.db.query<{ scan_verdict: string }>(
      "select b.scan_verdict from public.blobs b join public.version_files f on f.blob_id = b.id where f.version_id = $1",
      [v.evil!.id],
    );
    expect(blob[0]!.scan_verdict).toBe("dangerous");
    const { rows: audit } = await t.db.query<{ n: number }>(
      "select count(*)::int as n from public.audit_events where action = 'version.rescan' and org_id = $1",
      [w.orgs.a.id],
    );
    expect(audit[0]!.n).toBe(1);
  });

  it("reports a file it cannot read instead of stopping", async () => {
    const key = await w.keyOf(v.good!);
    fs.rmSync(`${w.config.storageDir}/${w.config.bucket}/${key}`);
    const s = await rescanVersions(t.db, w.store, { org: w.orgs.a.slug });
    expect(s.failed.map((f) => f.key)).toEqual([key]);
  });
});
