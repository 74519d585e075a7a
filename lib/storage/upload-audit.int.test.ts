import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { errorCode as code, makeWorld, type World } from "@/test/world";

// Issue #15 (11): refused uploads and the models uploads create are in the audit trail.
describe.each(DB_KINDS)("upload audit on %s", (kind) => {
  let t: TestDatabase;
  const worlds: World[] = [];
  beforeAll(async () => {
    t = await openTestDatabase(kind);
  });
  afterEach(() => {
    for (const w of worlds.splice(0)) w.cleanup();
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it("records the model an upload creates, a taken version (409) and a file that is not a model (422)", async () => {
    const w = await makeWorld(t.db);
    worlds.push(w);
    const org = w.orgs.a.slug;
    await w.upload("member", "churn", "1.0");
    expect(await code(w.upload("member", "churn", "1.0"))).toBe("conflict");
    expect(await code(w.upload("member", "junk", "1.0", "not_a_model.h5"))).toBe("invalid_model_file");

    const events = (await w.services.audit.list(w.users.viewer, org, { limit: 50 })).items;
    const created = events.filter((e) => e.action === "model.create");
    // The junk upload's model was created and then removed with the refused upload: both are recorded.
    expect(created.map((e) => e.details)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ slug: "churn", via: "upload", version: "1.0" }),
        expect.objectContaining({ slug: "junk" }),
      ]),
    );
    const refused = events.filter((e) => e.action === "upload.refused").map((e) => e.details);
    expect(refused).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ org, model: "churn", version: "1.0", status: 409, code: "conflict" }),
        expect.objectContaining({ org, model: "junk", version: "1.0", status: 422, code: "invalid_model_file", path: "not_a_model.h5" }),
      ]),
    );
    expect(refused).toHaveLength(2);
    expect(events.every((e) => e.actor_email === w.users.member.email || e.action === "version.upload")).toBe(true);
    // A viewer's refused upload is a 403, not a refusal of the file: nothing to record.
    expect(await code(w.upload("viewer", "churn", "2.0"))).toBe("forbidden");
    expect((await w.services.audit.list(w.users.viewer, org, { action: "upload.refused" })).items).toHaveLength(2);
  });
});
