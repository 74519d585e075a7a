import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { OPERATIONS, openApiDocument } from "./openapi";

/** Every route handler under app/api with the methods it exports, as OpenAPI paths. */
function routes(): { path: string; method: string }[] {
  const root = path.resolve("app/api");
  const out: { path: string; method: string }[] = [];
  for (const file of fs.readdirSync(root, { recursive: true }) as string[]) {
    if (!file.endsWith("route.ts")) continue;
    const dir = path.dirname(file);
    // The JSON 404s for /api and unknown paths below it; this document itself.
    if (dir === "." || dir.startsWith("[...path]") || dir === "v1/openapi.json") continue;
    const source = fs.readFileSync(path.join(root, file), "utf8");
    const methods = [...source.matchAll(/export (?:const|async function|function) (GET|POST|PUT|PATCH|DELETE|HEAD)\b/g)].map((m) => m[1]!);
    const segments = dir.split(path.sep).filter((s) => s !== ".");
    const optional = segments.findIndex((s) => /^\[\[\.\.\.\w+\]\]$/.test(s));
    const variants =
      optional >= 0
        ? [segments.slice(0, optional), [...segments.slice(0, optional), `{${segments[optional]!.slice(5, -2)}}`]]
        : [segments.map((s) => s.replace(/^\[(?:\.\.\.)?(\w+)\]$/, "{$1}"))];
    for (const v of variants) for (const m of methods) out.push({ path: `/api/${v.join("/")}`, method: m.toLowerCase() });
  }
  return out;
}

describe("the OpenAPI document", () => {
  it("documents every route handler's methods (and nothing that does not exist)", () => {
    const found = routes();
    expect(found.length).toBeGreaterThan(20);
    const missing = found.filter((r) => !OPERATIONS[r.path]?.[r.method as "get"]);
    // tus creates at /uploads (POST) and works on /uploads/{id} (HEAD, PATCH, DELETE); both routes share one handler.
    const tusNoise = (r: { path: string; method: string }) =>
      (r.path === "/api/v1/uploads" && r.method !== "post") || (r.path === "/api/v1/uploads/{id}" && r.method === "post");
    expect(missing.filter((r) => !tusNoise(r))).toEqual([]);
    const known = new Set(found.map((r) => `${r.method} ${r.path}`));
    const documented = Object.entries(OPERATIONS).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(documented.filter((d) => !known.has(d))).toEqual([]);
  });

  it("is generated from the zod schemas the routes validate with", () => {
    // Read back as plain JSON, the way clients see it.
    const doc = JSON.parse(JSON.stringify(openApiDocument()));
    const create = doc.paths["/api/v1/orgs/{org}/models"].post as {
      requestBody: { content: Record<string, { schema: { properties: object } }> };
    };
    expect(Object.keys(create.requestBody.content["application/json"]!.schema.properties)).toEqual(
      expect.arrayContaining(["name", "task_type", "tags", "slug"]),
    );
    const list = doc.paths["/api/v1/orgs/{org}/models"].get as { parameters: { name: string; in: string }[] };
    expect(list.parameters.filter((p) => p.in === "query").map((p) => p.name)).toEqual(
      expect.arrayContaining(["q", "framework", "type", "tag", "verdict", "sort", "cursor", "limit"]),
    );
    expect(JSON.stringify(doc)).not.toContain('"$schema"');
  });
});
