import fs from "node:fs";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/lib/auth/principal";
import { AppError } from "@/lib/errors";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { fixture, makeWorld, type World } from "@/test/world";
import { BYTES_PER_GB } from "./usage";

const RATES = { storagePerGbMonth: 0.021, egressPerGb: 0.09 };
const size = (file: string) => fs.statSync(fixture(file)).size;
const drain = async (s: Readable) => {
  for await (const _ of s) void _;
};

describe.each(DB_KINDS)("usage on %s", (kind) => {
  let t: TestDatabase;
  let w: World;
  const expected = { stored: 0, objects: 0, logical: 0, deleted: 0, egress: 0, downloads: 0 };

  const upload = async (who: Principal, org: string, model: string, version: string, file: string, task = "classification") => {
    const v = await w.services.uploads.uploadVersion(who, {
      org,
      model,
      version,
      fileName: file,
      body: fs.createReadStream(fixture(file)),
      contentLength: size(file),
      metadata: { name: model, task_type: task as never },
    });
    expect(v.size_bytes).toBe(size(file));
    return v;
  };
  const download = async (who: Principal, org: string, model: string, version: string, range?: { start: number; end: number }) => {
    const d = await w.services.downloads.openDownload(who, org, model, version, range ? { range } : {});
    await drain(d.stream);
    await d.recorded;
  };

  beforeAll(async () => {
    t = await openTestDatabase(kind);
    w = await makeWorld(t.db);
    const a = w.orgs.a.slug;
    // Org A: four versions stored (one quarantined), one more uploaded then retired.
    await upload(w.users.member, a, "credit_risk", "2.1", "credit_risk_v2.1.pkl");
    await upload(w.users.member, a, "credit_risk", "2.2", "customer_segmentation_v1.0.pkl");
    await upload(w.users.owner, a, "fraud", "1.5.2", "fraud_detection_v1.5.2.h5");
    await upload(w.users.member, a, "churn", "1.0", "churn_model_v1.onnx", "regression");
    await w.services.catalog.deleteVersion(w.users.member, a, "churn", "1.0");
    // A quarantined version still occupies storage.
    expect((await upload(w.users.member, a, "evil", "1.0", "malicious_os_system.pkl")).status).toBe("quarantined");
    // The same bytes as credit_risk 2.1 under another model: referenced twice, stored once.
    await upload(w.users.member, a, "credit_copy", "1.0", "credit_risk_v2.1.pkl");
    expected.logical =
      2 * size("credit_risk_v2.1.pkl") +
      size("customer_segmentation_v1.0.pkl") +
      size("fraud_detection_v1.5.2.h5") +
      size("malicious_os_system.pkl");
    expected.deleted = size("churn_model_v1.onnx");
    // The bucket holds each blob once, the retired version's too until retention purges it.
    expected.stored = expected.logical - size("credit_risk_v2.1.pkl") + expected.deleted;
    expected.objects = 5;
    // Two full downloads and one ranged one (100 bytes) in org A.
    await download(w.users.viewer, a, "credit_risk", "2.1");
    await download(w.users.admin, a, "fraud", "1.5.2");
    await download(w.users.viewer, a, "fraud", "1.5.2", { start: 0, end: 99 });
    expected.egress = size("credit_risk_v2.1.pkl") + size("fraud_detection_v1.5.2.h5") + 100;
    expected.downloads = 3;
    // Org B: big files and downloads that must never count for A.
    const b = w.orgs.b.slug;
    await upload(w.users.outsider, b, "other", "1.0", "price_optimization_v1.3.pkl");
    await upload(w.users.both, b, "other", "1.1", "inventory_forecast_v1.1.json");
    await download(w.users.outsider, b, "other", "1.0");
    await download(w.users.both, b, "other", "1.1");
  });
  afterAll(async () => {
    w?.cleanup();
    await t?.cleanup();
  });

  it("totals equal what was uploaded, retired and downloaded — for every role of the org", async () => {
    for (const who of ["owner", "admin", "member", "viewer", "both"] as const) {
      const u = await w.services.usage.getUsage(w.users[who], w.orgs.a.slug, { rates: RATES });
      expect(u.totals, who).toEqual({
        stored_bytes: expected.stored,
        object_count: expected.objects,
        logical_bytes: expected.logical,
        dedup_saved_bytes: size("credit_risk_v2.1.pkl"),
        version_count: 5,
        deleted_bytes: expected.deleted,
        deleted_count: 1,
        model_count: 5,
      });
      expect(u.downloads_total).toEqual({ count: expected.downloads, bytes: expected.egress });
    }
  });

  it("breaks storage down by model, framework and task type, summing to the total", async () => {
    const u = await w.services.usage.getUsage(w.users.viewer, w.orgs.a.slug, { rates: RATES });
    const byModel = Object.fromEntries(u.by_model.map((m) => [m.slug, m]));
    expect(Object.keys(byModel).sort()).toEqual(["churn", "credit_copy", "credit_risk", "evil", "fraud"]);
    // A blob two models share is stored bytes of both: per-model stored bytes are what deleting
    // that model alone could never free, so they are not summed into the total.
    expect(byModel.credit_copy).toMatchObject({
      bytes: size("credit_risk_v2.1.pkl"),
      stored_bytes: size("credit_risk_v2.1.pkl"),
      count: 1,
    });
    expect(byModel.churn!.stored_bytes).toBe(size("churn_model_v1.onnx"));
    expect(byModel.evil).toMatchObject({ bytes: size("malicious_os_system.pkl"), count: 1 });
    expect(byModel.credit_risk).toMatchObject({
      bytes: size("credit_risk_v2.1.pkl") + size("customer_segmentation_v1.0.pkl"),
      count: 2,
      deleted_bytes: 0,
    });
    expect(byModel.fraud).toMatchObject({ bytes: size("fraud_detection_v1.5.2.h5"), count: 1 });
    expect(byModel.churn).toMatchObject({ bytes: 0, count: 0, deleted_bytes: size("churn_model_v1.onnx") });
    expect(u.by_model[0]!.slug).toBe("fraud"); // largest first
    expect(u.other_models).toEqual({ models: 0, bytes: 0, count: 0 });

    const sum = (xs: { bytes: number; count: number }[]) => [xs.reduce((s, x) => s + x.bytes, 0), xs.reduce((s, x) => s + x.count, 0)];
    expect(sum(u.by_framework)).toEqual([expected.logical, 5]);
    expect(sum(u.by_task_type)).toEqual([expected.logical, 5]);
    expect(u.by_framework.find((f) => f.framework === "tensorflow-keras")).toMatchObject({
      bytes: size("fraud_detection_v1.5.2.h5"),
      count: 1,
    });
    expect(u.by_framework.find((f) => f.framework === "scikit-learn")?.count).toBe(3);
    expect(u.by_task_type).toEqual([{ task_type: "classification", bytes: expected.logical, count: 5 }]);

    const limited = await w.services.usage.getUsage(w.users.viewer, w.orgs.a.slug, { rates: RATES, topModels: 1 });
    expect(limited.by_model.map((m) => m.slug)).toEqual(["fraud"]);
    expect(limited.other_models).toEqual({ models: 4, bytes: expected.logical - size("fraud_detection_v1.5.2.h5"), count: 4 });
  });

  it("shows growth, egress per month and the most-accessed models", async () => {
    const u = await w.services.usage.getUsage(w.users.member, w.orgs.a.slug, { rates: RATES });
    const last = u.growth.at(-1)!;
    expect(last.month).toBe(u.month);
    // Everything happened this month: added = every blob stored once; nothing purged yet.
    expect(last).toEqual({
      month: u.month,
      stored_bytes: expected.stored,
      added_bytes: expected.stored,
      removed_bytes: 0,
    });
    // Twelve months on the chart even for a young org: nothing stored before this month.
    expect(u.growth).toHaveLength(12);
    expect(u.growth.slice(0, -1).every((g) => g.stored_bytes === 0 && g.added_bytes === 0)).toBe(true);
    expect(u.egress).toHaveLength(12);
    expect(u.egress.at(-1)).toEqual({ month: u.month, downloads: expected.downloads, bytes: expected.egress });
    expect(u.egress.slice(0, -1).every((e) => e.downloads === 0 && e.bytes === 0)).toBe(true);
    expect(u.top_models.map((m) => [m.slug, m.downloads])).toEqual([
      ["fraud", 2],
      ["credit_risk", 1],
    ]);
    expect(u.top_models[0]!.bytes).toBe(size("fraud_detection_v1.5.2.h5") + 100);

    // Two months later nothing changed: the stored line stays flat, no egress in the new month.
    const later = new Date(Date.now() + 62 * 86400_000);
    const l = await w.services.usage.getUsage(w.users.member, w.orgs.a.slug, { rates: RATES, now: later });
    expect(l.growth.length).toBeGreaterThanOrEqual(3);
    expect(l.growth.slice(-3).map((g) => g.stored_bytes)).toEqual([expected.stored, expected.stored, expected.stored]);
    expect(l.growth.at(-1)).toMatchObject({ added_bytes: 0, removed_bytes: 0 });
    expect(l.egress.at(-1)).toMatchObject({ downloads: 0, bytes: 0 });
    expect(l.cost.egress).toBe(0);
  });

  it("estimates this month's cost from stored GB and this month's egress GB", async () => {
    const u = await w.services.usage.getUsage(w.users.viewer, w.orgs.a.slug, { rates: { storagePerGbMonth: 2, egressPerGb: 10 } });
    expect(u.cost.stored_gb).toBeCloseTo(expected.stored / BYTES_PER_GB, 12);
    expect(u.cost.storage).toBeCloseTo((expected.stored / BYTES_PER_GB) * 2, 12);
    expect(u.cost.egress).toBeCloseTo((expected.egress / BYTES_PER_GB) * 10, 12);
    expect(u.cost.total).toBeCloseTo(u.cost.storage + u.cost.egress, 12);
  });

  it("never counts another org's bytes, and a stranger cannot see an org's usage at all", async () => {
    const b = await w.services.usage.getUsage(w.users.outsider, w.orgs.b.slug, { rates: RATES });
    const bStored = size("price_optimization_v1.3.pkl") + size("inventory_forecast_v1.1.json");
    expect(b.totals).toMatchObject({ stored_bytes: bStored, object_count: 2, deleted_bytes: 0 });
    expect(b.downloads_total).toEqual({ count: 2, bytes: bStored });
    // A member of both orgs sees each org's own numbers.
    const both = await w.services.usage.getUsage(w.users.both, w.orgs.b.slug, { rates: RATES });
    expect(both.totals.stored_bytes).toBe(bStored);

    const err = await w.services.usage.getUsage(w.users.outsider, w.orgs.a.slug, { rates: RATES }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("not_found");
    // An API token pinned to org B cannot read org A's usage even for a member of both.
    const pinned = await w.tokenPrincipal("both", "b", "viewer");
    expect(((await w.services.usage.getUsage(pinned, w.orgs.a.slug, { rates: RATES }).catch((e) => e)) as AppError).code).toBe("not_found");
  });
});
