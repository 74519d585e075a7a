import { test, expect } from "@playwright/test";
import { bearer, fixture, raw, slugFor } from "./helpers";

// CSV injection in the audit export: text a user controls (model names, file names, their user agent)
// lands in cells; none may start with = + - @ TAB or CR, so a spreadsheet shows it instead of running it.

/** RFC 4180 rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || (c === "\r" && text[i + 1] === "\n")) {
      if (c === "\r") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

const FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-1+1", "@SUM(1)", "\t=1+1", "=cmd|' /C calc'!A0"];

test.describe("CSV injection", () => {
  test("the audit export neutralises cells that start like formulas, and quotes the rest", async ({ request }) => {
    const slug = slugFor("csv");
    const bob = bearer("bob");
    let n = 0;
    for (const f of FORMULAS) {
      // Each formula as the uploader's user agent, and as the model's name.
      const a = await raw({
        method: "PUT",
        path: `/api/v1/orgs/demo_org/models/${slug}/versions/1.${n++}?filename=m.onnx`,
        headers: { ...bob, "user-agent": f, "x-model-metadata": JSON.stringify({ name: f, task_type: "other" }) },
        body: fixture("churn_model_v1.onnx"),
      });
      expect(a.status, a.body).toBe(201);
    }
    const quoteMe = 'a "quoted", multi\nline agent';
    await request.patch(`/api/v1/orgs/demo_org/models/${slug}`, { headers: bob, data: { description: quoteMe } });
    const csv = await raw({ method: "GET", path: `/api/v1/orgs/demo_org/audit?format=csv&model=${slug}`, headers: bob });
    expect(csv.status).toBe(200);
    expect(csv.headers["content-type"]).toMatch(/^text\/csv/);
    expect(csv.headers["content-disposition"]).toMatch(/^attachment; filename="audit-demo_org-[0-9-]+\.csv"$/);
    const rows = parseCsv(csv.body);
    const header = rows[0]!;
    expect(header).toContain("user_agent");
    const width = header.length;
    const problems: string[] = [];
    let formulaCells = 0;
    for (const row of rows.slice(1)) {
      if (row.length !== width) problems.push(`a row of ${row.length} cells, not ${width}: ${row.join(" | ").slice(0, 160)}`);
      for (const cell of row) {
        if (FORMULAS.some((f) => cell.includes(f.trim()))) formulaCells++;
        if (/^[=+\-@\t\r]/.test(cell)) problems.push(`a cell starts like a formula: ${JSON.stringify(cell)}`);
      }
    }
    // The formulas are there (as text), so the check above looked at them.
    expect(formulaCells).toBeGreaterThanOrEqual(FORMULAS.length);
    expect(problems).toEqual([]);
  });
});
