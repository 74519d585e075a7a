import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/lib/auth/principal";
import { AppError } from "@/lib/errors";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { fixture, makeWorld, type World } from "@/test/world";
import { AUDIT_CSV_COLUMNS, auditCsvRow, csvCell, type AuditEvent } from "./audit";
import { auditQuerySchema } from "./query";

async function readAll(s: ReadableStream<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  const reader = s.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
  return Buffer.concat(chunks).toString("utf8");
}

describe("csvCell", () => {
  it("quotes separators, quotes and line breaks (RFC 4180)", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell(" padded ")).toBe('" padded "');
    expect(csvCell(null)).toBe("");
    expect(csvCell(42)).toBe("42");
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"');
  });
  it("defuses spreadsheet formulas", () => {
    expect(csvCell('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvCell("+1+1")).toBe("'+1+1");
    expect(csvCell("-2")).toBe("'-2");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("\tcmd")).toBe("'\tcmd");
    expect(csvCell("a=b")).toBe("a=b");
  });
});

describe("auditQuerySchema", () => {
  it("treats empty form fields as absent and rejects junk", () => {
    expect(auditQuerySchema.parse({ actor: "", action: "", model: "", from: "", to: "" })).toEqual({ limit: 50 });
    expect(auditQuerySchema.safeParse({ from: "yesterday" }).success).toBe(false);
    expect(auditQuerySchema.safeParse({ action: "drop table" }).success).toBe(false);
    expect(auditQuerySchema.safeParse({ model: "../x" }).success).toBe(false);
    expect(auditQuerySchema.parse({ from: "2026-01-31", to: "2026-02-01T10:00:00Z" })).toMatchObject({
      from: "2026-01-31",
      to: "2026-02-01T10:00:00Z",
    });
  });
});

describe.each(DB_KINDS)("audit trail on %s", (kind) => {
  let t: TestDatabase;
  let w: World;
  let a: string;

  const upload = (who: Principal, org: string, model: string, version: string, file = "credit_risk_v2.1.pkl") =>
    w.services.uploads.uploadVersion(who, {
      org,
      model,
      version,
      fileName: file,
      body: fs.createReadStream(fixture(file)),
      contentLength: fs.statSync(fixture(file)).size,
    });

  beforeAll(async () => {
    t = await openTestDatabase(kind);
    w = await makeWorld(t.db);
    a = w.orgs.a.slug;
    await upload(w.users.member, a, "credit_risk", "1.0");
    await upload(w.users.member, a, "credit_risk", "1.1");
    await upload(w.users.owner, a, "fraud", "1.0", "churn_model_v1.onnx");
    await w.services.aliases.setAlias(w.users.member, a, "credit_risk", "production", "1.0");
    await w.services.aliases.setAlias(w.users.owner, a, "credit_risk", "production", "1.1");
    for (let i = 0; i < 5; i++) {
      const d = await w.services.downloads.openDownload(
        w.users.viewer,
        a,
        "credit_risk",
        "1.1",
        {},
        { ip: "10.0.0.9", userAgent: "=cmd|' /C calc'!A0" },
      );
      for await (const chunk of d.stream) void chunk;
      await d.recorded;
    }
    await w.services.catalog.deleteVersion(w.users.admin, a, "credit_risk", "1.0");
    // Org B's activity must never show up in A's trail.
    await upload(w.users.outsider, w.orgs.b.slug, "secret", "1.0");
  });
  afterAll(async () => {
    w?.cleanup();
    await t?.cleanup();
  });

  const all = async (who: Principal, q: Record<string, string | number> = {}) => {
    const out: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await w.services.audit.list(who, a, { ...q, cursor, limit: (q.limit as number) ?? 50 } as never);
      out.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return out;
  };

  it("lists the org's events newest first, with actor, model and version", async () => {
    const events = await all(w.users.viewer);
    // 3 uploads (two of which created their models), 2 alias moves, 5 downloads, 1 delete.
    expect(events.map((e) => e.action).sort()).toEqual(
      [
        ...Array(2).fill("model.create"),
        ...Array(3).fill("version.upload"),
        ...Array(2).fill("alias.move"),
        ...Array(5).fill("version.download"),
        "version.delete",
      ].sort(),
    );
    expect(events[0]!.action).toBe("version.delete");
    const times = events.map((e) => new Date(e.created_at).getTime());
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    const dl = events.find((e) => e.action === "version.download")!;
    expect(dl).toMatchObject({
      model_slug: "credit_risk",
      version: "1.1",
      actor_email: w.users.viewer.email,
      via: "session",
      ip: "10.0.0.9",
    });
    expect(dl.bytes).toBe(fs.statSync(fixture("credit_risk_v2.1.pkl")).size);
    expect(events.every((e) => e.model_slug !== "secret")).toBe(true);
  });

  it("pages with a keyset cursor: every event exactly once, in order", async () => {
    const whole = await all(w.users.member);
    for (const size of [1, 2, 3, 7]) {
      const paged = await all(w.users.member, { limit: size });
      expect(paged.map((e) => e.id)).toEqual(whole.map((e) => e.id));
    }
    await expect(w.services.audit.list(w.users.member, a, { cursor: "garbage" })).rejects.toMatchObject({
      code: "bad_request",
    });
  });

  it("filters by actor, action (or family), model and date range", async () => {
    expect((await all(w.users.viewer, { actor: w.users.viewer.email!.toUpperCase() })).map((e) => e.action)).toEqual(
      Array(5).fill("version.download"),
    );
    expect((await all(w.users.viewer, { actor: "member-" })).every((e) => e.actor_email === w.users.member.email)).toBe(true);
    expect((await all(w.users.viewer, { actor: "%" })).length).toBe(0); // LIKE wildcards are literal
    expect((await all(w.users.viewer, { action: "alias.move" })).map((e) => e.details)).toEqual([
      { alias: "production", from: "1.0", to: "1.1" },
      { alias: "production", from: null, to: "1.0" },
    ]);
    expect((await all(w.users.viewer, { action: "version" })).length).toBe(9);
    expect((await all(w.users.viewer, { model: "fraud" })).map((e) => e.action)).toEqual(["version.upload", "model.create"]);
    expect(await all(w.users.viewer, { model: "nope" })).toEqual([]);
    const today = new Date().toISOString().slice(0, 10);
    expect((await all(w.users.viewer, { from: today, to: today })).length).toBe(13);
    expect(await all(w.users.viewer, { to: "2000-01-01" })).toEqual([]);
    expect(await all(w.users.viewer, { from: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
  });

  it("exports CSV: header, one escaped row per event, formula-safe, bounded", async () => {
    const whole = await all(w.users.viewer);
    const { stream, truncated } = await w.services.audit.exportCsv(w.users.viewer, a, {}, { batchSize: 4 });
    const text = await readAll(stream);
    const lines = text.trimEnd().split("\r\n");
    expect(lines[0]).toBe(AUDIT_CSV_COLUMNS.join(","));
    expect(lines.slice(1)).toEqual(whole.map(auditCsvRow));
    expect(truncated).toBe(false);
    // The hostile user agent starts with "=": prefixed with a quote, never a formula.
    expect(text).toContain(`,'=cmd|' /C calc'!A0,`);
    expect(text).not.toMatch(/(^|,)=cmd/m);

    const capped = await w.services.audit.exportCsv(w.users.viewer, a, {}, { maxRows: 3, batchSize: 2 });
    expect(capped.truncated).toBe(true);
    expect((await readAll(capped.stream)).trimEnd().split("\r\n")).toHaveLength(4);
    const filtered = await w.services.audit.exportCsv(w.users.viewer, a, { action: "alias.move" });
    expect((await readAll(filtered.stream)).trimEnd().split("\r\n")).toHaveLength(3);
  });

  it("shows a stranger nothing: not_found, in lists and exports", async () => {
    const err = await w.services.audit.list(w.users.outsider, a, {}).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("not_found");
    await expect(w.services.audit.exportCsv(w.users.outsider, a, {})).rejects.toMatchObject({ code: "not_found" });
    // Org B's owner sees B's trail only.
    const b = await w.services.audit.list(w.users.outsider, w.orgs.b.slug, {});
    expect(b.items.map((e) => [e.action, e.model_slug])).toEqual([
      ["version.upload", "secret"],
      ["model.create", "secret"],
    ]);
  });
});
