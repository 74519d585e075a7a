import crypto from "node:crypto";
import fs from "node:fs";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, type TestDatabase } from "@/test/db";
import { fixture, makeWorld, sha256File, type World } from "@/test/world";

// STORAGE_ENCRYPTION_KEY turns encryption at rest on for the app's local store: uploads are stored
// encrypted, downloads (and ranges) come back as the plaintext, and the SHA-256 is the plaintext's.
describe("encryption at rest, wired through the platform's local store", () => {
  let t: TestDatabase;
  let w: World;
  beforeAll(async () => {
    t = await openTestDatabase("pglite");
    w = await makeWorld(t.db, { env: { STORAGE_ENCRYPTION_KEY: crypto.randomBytes(32).toString("base64") } });
    expect((w.platform.blobs.local() as { encrypted?: boolean }).encrypted).toBe(true);
  });
  afterAll(async () => {
    w?.cleanup();
    await t?.cleanup();
  });

  it("stores ciphertext, serves plaintext, records the plaintext's SHA-256", async () => {
    const file = fixture("credit_risk_v2.1.pkl");
    const v = await w.services.uploads.uploadVersion(w.users.member, {
      org: w.orgs.a.slug,
      model: "enc",
      version: "1.0",
      fileName: "m.pkl",
      body: fs.createReadStream(file),
    });
    expect(v.sha256).toBe(sha256File(file));
    expect(v.scan_verdict).toBe("safe");
    const onDisk = fs.readFileSync(`${w.config.storageDir}/${w.config.bucket}/${await w.keyOf(v)}`);
    expect(onDisk.includes(fs.readFileSync(file).subarray(0, 64))).toBe(false);
    const read = async (s: Readable) => Buffer.concat(await s.toArray());
    const d = await w.services.downloads.openDownload(w.users.viewer, w.orgs.a.slug, "enc", "1.0", { range: { start: 100, end: 299 } });
    expect(Buffer.compare(await read(d.stream), fs.readFileSync(file).subarray(100, 300))).toBe(0);
  });
});
