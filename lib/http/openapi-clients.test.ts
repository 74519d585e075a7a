import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { OPERATIONS } from "./openapi";

// Every call the `fairmind` CLI (cli/) and the Python client (clients/python) make is in the OpenAPI
// document (issue 14). The table names them; the scan below keeps the table honest.
const CLIENT_CALLS: [method: string, path: string][] = [
  ["post", "/api/v1/auth/sign-in"], // login --email, tokens create --email
  ["get", "/api/v1/me"], // login, whoami, default organization
  ["get", "/api/v1/orgs"],
  ["get", "/api/v1/orgs/{org}/models"],
  ["get", "/api/v1/orgs/{org}/models/{model}"], // resolving an alias or the latest version
  ["get", "/api/v1/orgs/{org}/models/{model}/versions"],
  ["post", "/api/v1/orgs/{org}/models/{model}/commits"],
  ["get", "/api/v1/orgs/{org}/models/{model}/commits/{id}"], // resuming an upload
  ["put", "/api/v1/orgs/{org}/models/{model}/commits/{id}/files/{path}"], // the commit's put_url
  ["post", "/api/v1/orgs/{org}/models/{model}/commits/{id}/complete"], // the commit's complete_url
  ["get", "/api/v1/orgs/{org}/models/{model}/versions/{version}/files"],
  ["get", "/api/v1/orgs/{org}/models/{model}/versions/{version}/files/{path}"], // a file's download_url, with Range
  ["put", "/api/v1/orgs/{org}/models/{model}/aliases/{alias}"],
  ["get", "/api/v1/tokens"],
  ["post", "/api/v1/tokens"],
  ["delete", "/api/v1/tokens/{id}"],
];

const sources = () =>
  [
    ...fs.readdirSync("cli").map((f) => path.join("cli", f)),
    ...fs.readdirSync("clients/python/fairmind").map((f) => path.join("clients/python/fairmind", f)),
  ].filter((f) => /\.(ts|py)$/.test(f) && !f.endsWith(".test.ts"));

describe("the OpenAPI document covers the clients", () => {
  it.each(CLIENT_CALLS)("%s %s", (method, p) => {
    expect(OPERATIONS[p]?.[method as "get"], `${method} ${p}`).toBeDefined();
  });

  it("lists every API path the client sources name", () => {
    // Literal paths, and suffixes appended to a base path (`${base}/commits`), as they appear in the code.
    const named = new Set<string>();
    for (const f of sources()) {
      const text = fs.readFileSync(f, "utf8");
      for (const m of text.matchAll(/\/api\/v1\/([a-z-]+)/g)) named.add(m[1]!);
      for (const m of text.matchAll(/\{base\}\/([a-z-]+)/g)) named.add(`base:${m[1]}`);
    }
    expect(named.size).toBeGreaterThan(4);
    const covered = CLIENT_CALLS.map(([, p]) => p);
    for (const n of named) {
      const hit = n.startsWith("base:")
        ? covered.some((p) => p.includes(`}/${n.slice(5)}`))
        : covered.some((p) => p.startsWith(`/api/v1/${n}`));
      expect(hit, `a client calls …${n}, which CLIENT_CALLS does not list`).toBe(true);
    }
  });
});
