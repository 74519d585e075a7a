import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { expect, test, type APIRequestContext, type APIResponse } from "@playwright/test";
import { PASSWORD, USERS, type DemoUser } from "../pages";

// Shared by the hostile-input specs (issue 10). Black box: everything goes over real HTTP to the
// server the project points at (embedded or postgres mode); nothing here imports the app.

export { PASSWORD, USERS, type DemoUser };

export const FIXTURES = "test/fixtures/models";
export const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name));
export const sha256 = (b: Buffer | string) => crypto.createHash("sha256").update(b).digest("hex");
export const uid = () => `${Date.now().toString(36)}${crypto.randomBytes(3).toString("hex")}`;
/** A model slug of our own. The e2e_ prefix keeps it out of the journeys' exact-list filters. */
export const slugFor = (what: string) => `e2e_hx_${what}_${uid()}`;
export const b64 = (s: string) => Buffer.from(s).toString("base64");
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Who the project talks to, and the demo sessions signed in once by hostile.setup.ts

export type Mode = "embedded" | "postgres";
interface ProjectMeta {
  mode: Mode;
  /** The server's DATA_DIR (playwright.config.ts), for the one test that needs its signing key. */
  dataDir: string;
}
export const projectMeta = (): ProjectMeta => test.info().project.metadata as ProjectMeta;
export const baseURL = (): string => {
  const url = test.info().project.use.baseURL;
  if (!url) throw new Error("the hostile projects need a baseURL");
  return url;
};
export const sessionsFile = (mode: Mode) => `e2e/.auth/hostile-${mode}.json`;

export interface Session {
  token: string;
  userId: string;
  email: string;
}
const sessionCache = new Map<Mode, Record<DemoUser, Session>>();

export function session(user: DemoUser): Session {
  const mode = projectMeta().mode;
  let all = sessionCache.get(mode);
  if (!all) {
    all = JSON.parse(fs.readFileSync(sessionsFile(mode), "utf8")) as Record<DemoUser, Session>;
    sessionCache.set(mode, all);
  }
  return all[user];
}
/** Authorization header of a demo user's access token (from POST /api/v1/auth/sign-in). */
export const bearer = (user: DemoUser) => ({ authorization: `Bearer ${session(user).token}` });
/** The same session as the browser carries it: the fm_session cookie. */
export const cookie = (user: DemoUser) => ({ cookie: `fm_session=${session(user).token}` });
export const tokenAuth = (token: string) => ({ authorization: `Bearer ${token}` });

// ---------------------------------------------------------------------------------------------
// Answers: the one JSON error shape, and nothing leaked

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  ms: number;
  /** The raw body bytes (raw() only). */
  bytes?: Buffer;
}

export async function answerOf(res: APIResponse, ms = 0): Promise<Answer> {
  return { status: res.status(), headers: res.headers(), body: await res.text().catch(() => ""), ms };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const LEAKS: [string, RegExp][] = [
  ["the server's working directory", new RegExp(escapeRe(process.cwd()))],
  ["a data directory", /\.data(-[a-z0-9-]+)?\/(db|storage|tus|tmp|auth-secret)/],
  ["an absolute server path", /(^|[\s"'=(:,[])\/(home|root|tmp|var|usr|opt|srv|work|proc|app)\/[\w.-]/],
  ["a stack trace", /\bat (async )?[\w.$<>[\] ]+ \((node:|file:|\/|webpack)|\n\s+at \S+:\d+:\d+/],
  [
    "a database error",
    /invalid byte sequence|syntax error at or near|violates (not-null|unique|foreign key|check) constraint|duplicate key value|invalid input syntax for|relation "[^"]+" does not exist|SQLSTATE|current transaction is aborted|out of range for type|date\/time field value out of range/i,
  ],
  ["a process id", /"pid"\s*:|\bpid\s*[=:]?\s*\d{2,}/i],
  ["a Node.js error code", /\bE(NOENT|ACCES|ISDIR|EEXIST|NOTDIR|CONNREFUSED|CONNRESET|PERM|PIPE)\b/],
];

/** What an answer leaks (paths, stack traces, SQL, pids), or null. */
export function leakIn(text: string): string | null {
  for (const [what, re] of LEAKS) {
    const m = re.exec(text);
    if (m) return `leaks ${what}: …${text.slice(Math.max(0, m.index - 40), m.index + 60)}…`;
  }
  return null;
}

export interface Want {
  /** Acceptable statuses. */
  status: number[];
  /** Acceptable error codes (when the answer is an error). */
  code?: string[];
  /** Errors must be our JSON shape (default true; HEAD answers have no body). */
  json?: boolean;
  /**
   * Check the error's Content-Type too (default true). The tus endpoint's errors are checked for it in
   * one place (uploads.spec.ts); elsewhere a tus answer is judged on its status and body.
   */
  contentType?: boolean;
}

/** Why an answer is not what issue 10 requires, or null when it is. */
export function problemWith(label: string, a: Answer, want: Want): string | null {
  const short = `${label} → ${a.status} ${a.body.slice(0, 200).replace(/\s+/g, " ")}`;
  if (a.status >= 500) return `${short} (a 5xx)`;
  if (!want.status.includes(a.status)) return `${short} (want ${want.status.join("|")})`;
  const leak = leakIn(a.body) ?? leakIn(JSON.stringify(a.headers));
  if (leak) return `${short} (${leak})`;
  if (a.status >= 400 && want.json !== false) {
    let body: { error?: { code?: unknown; message?: unknown } } | undefined;
    try {
      body = JSON.parse(a.body);
    } catch {
      return `${short} (not our JSON error shape)`;
    }
    if (typeof body?.error?.code !== "string" || typeof body.error.message !== "string" || !body.error.message)
      return `${short} (not {"error":{"code","message"}})`;
    if (want.contentType !== false && !(a.headers["content-type"] ?? "").includes("application/json"))
      return `${short} (content-type ${a.headers["content-type"]})`;
    if (want.code && !want.code.includes(body.error.code)) return `${short} (want code ${want.code.join("|")})`;
  }
  return null;
}

/** Asserts one answer: the statuses (and codes) wanted, our JSON error shape, nothing leaked. */
export async function expectAnswer(res: APIResponse | Answer, want: Want, label?: string): Promise<Answer> {
  const a = "status" in res && typeof res.status === "number" ? (res as Answer) : await answerOf(res as APIResponse);
  const name = label ?? ("url" in res && typeof res.url === "function" ? res.url() : "request");
  expect(problemWith(name, a, want)).toBeNull();
  return a;
}

/** Asserts a 4xx error with our JSON shape: `expectError(res, 404, "not_found")`. */
export function expectError(res: APIResponse | Answer, status: number | number[], code?: string | string[], label?: string) {
  return expectAnswer(
    res,
    { status: Array.isArray(status) ? status : [status], code: code === undefined ? undefined : Array.isArray(code) ? code : [code] },
    label,
  );
}

/** Runs checks one after another and fails once with every problem found (a readable list). */
export async function collectProblems<T>(cases: T[], check: (c: T) => Promise<string | null>): Promise<string[]> {
  const problems: string[] = [];
  for (const c of cases) {
    try {
      const p = await check(c);
      if (p) problems.push(p);
    } catch (e) {
      problems.push(`${JSON.stringify(c).slice(0, 200)} → threw ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP: exact bytes in the path (no URL normalisation), lying Content-Length, slow bodies

export interface RawOptions {
  method: string;
  /** Sent exactly as given: "%2e%2e" stays encoded, "\\" stays a backslash. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Give up waiting for an answer after this long: the answer is then status 0 ("no answer"). */
  timeoutMs?: number;
}

export function raw(opts: RawOptions): Promise<Answer> {
  const url = new URL(baseURL());
  const t = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: Omit<Answer, "ms">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...a, ms: performance.now() - t });
    };
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: opts.path,
      method: opts.method,
      headers: opts.headers,
      agent: false,
      insecureHTTPParser: true,
    });
    const timer = setTimeout(() => {
      finish({ status: 0, headers: {}, body: `no answer within ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs ?? 30_000);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      const end = () => {
        const bytes = Buffer.concat(chunks);
        finish({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: bytes.toString("utf8"), bytes });
      };
      res.on("end", end);
      res.on("error", end);
    });
    req.on("error", (e) => finish({ status: -1, headers: {}, body: `connection error: ${e.message}` }));
    req.end(opts.body);
  });
}

/**
 * Sends the headers and the first `send` bytes of a body that declares `declared` bytes, then
 * waits (without sending more) for an answer for up to `waitMs`.
 */
export function partialBody(opts: {
  method: string;
  path: string;
  headers?: Record<string, string>;
  declared: number;
  send: number;
  waitMs: number;
}): Promise<Answer> {
  const url = new URL(baseURL());
  const t = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: Omit<Answer, "ms">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...a, ms: performance.now() - t });
    };
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: opts.path,
      method: opts.method,
      agent: false,
      headers: { ...opts.headers, "content-length": String(opts.declared) },
    });
    const timer = setTimeout(() => finish({ status: 0, headers: {}, body: `no answer within ${opts.waitMs} ms` }), opts.waitMs);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        finish({
          status: res.statusCode ?? 0,
          headers: res.headers as Record<string, string>,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    req.on("error", () => finish({ status: -1, headers: {}, body: "connection closed by the server before an answer" }));
    req.write(Buffer.alloc(opts.send, 0x20));
  });
}

// ---------------------------------------------------------------------------------------------
// Data of our own: models, versions, tokens, throwaway accounts

/** PUT a fixture as a new version; expects 201 and returns the version JSON. */
export async function uploadVersion(
  request: APIRequestContext,
  auth: Record<string, string>,
  where: { org?: string; model: string; version: string },
  file = "churn_model_v1.onnx",
  metadata: Record<string, unknown> = { name: `Hostile ${where.model}`, task_type: "classification" },
) {
  const org = where.org ?? "demo_org";
  const ext = path.extname(file);
  const r = await request.put(`/api/v1/orgs/${org}/models/${where.model}/versions/${where.version}?filename=upload${ext}`, {
    headers: { ...auth, "content-type": "application/octet-stream", "x-model-metadata": JSON.stringify(metadata) },
    data: fixture(file),
  });
  expect(r.status(), `upload ${org}/${where.model}@${where.version}: ${await r.text()}`).toBe(201);
  return (await r.json()) as {
    id: string;
    version: string;
    status: string;
    sha256: string;
    size_bytes: number;
    file_count: number;
    scan: { verdict: string };
  };
}

/** POST /api/v1/tokens; expects 201 and returns {id, token}. */
export async function createToken(
  request: APIRequestContext,
  auth: Record<string, string>,
  org: string,
  role: "admin" | "member" | "viewer",
  name = `hx-${uid()}`,
) {
  const r = await request.post("/api/v1/tokens", { headers: auth, data: { org, name, role } });
  expect(r.status(), `create token: ${await r.text()}`).toBe(201);
  return (await r.json()) as { id: string; token: string; user_id: string; name: string };
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

/** The hidden fields React renders into a progressively enhanced server-action form. */
export function hiddenFormFields(html: string, testId: string): Record<string, string> {
  const start = html.search(new RegExp(`<form[^>]*data-testid="${testId}"`));
  if (start < 0) throw new Error(`no form ${testId} in the page`);
  const form = html.slice(start, html.indexOf("</form>", start));
  const fields: Record<string, string> = {};
  for (const tag of form.match(/<input[^>]*type="hidden"[^>]*>/g) ?? []) {
    const name = /name="([^"]*)"/.exec(tag)?.[1];
    if (name) fields[unescapeHtml(name)] = unescapeHtml(/value="([^"]*)"/.exec(tag)?.[1] ?? "");
  }
  return fields;
}

/** Posts a server-action form the way a browser without JavaScript does (multipart, with Origin). */
export async function postActionForm(
  request: APIRequestContext,
  pagePath: string,
  testId: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const page = await request.get(pagePath, { headers, maxRedirects: 0 });
  expect(page.status(), `GET ${pagePath}`).toBe(200);
  const hidden = hiddenFormFields(await page.text(), testId);
  return request.post(pagePath, {
    headers: { origin: new URL(baseURL()).origin, ...headers },
    multipart: { ...hidden, ...fields },
    maxRedirects: 0,
  });
}

export interface Account {
  email: string;
  password: string;
  token: string;
}

/** A throwaway account (sign-up form), for tests that must not disturb the demo users. */
export async function signUp(request: APIRequestContext, label = "hx"): Promise<Account> {
  const email = `${label}-${uid()}@hostile.test`;
  const password = `pw-${crypto.randomBytes(9).toString("base64url")}`;
  const r = await postActionForm(request, "/sign-up", "sign-up-form", { displayName: "Hostile test", email, password });
  expect(r.status(), `sign-up ${email}: ${r.status()} ${(await r.text()).slice(0, 200)}`).toBe(303);
  const token = /fm_session=([^;]+)/.exec(r.headers()["set-cookie"] ?? "")?.[1];
  expect(token, "sign-up sets the session cookie").toBeTruthy();
  return { email, password, token: token! };
}

/** POST /api/v1/auth/sign-in and time it. */
export async function timedSignIn(request: APIRequestContext, email: string, password: string, headers: Record<string, string> = {}) {
  const t = performance.now();
  const r = await request.post("/api/v1/auth/sign-in", { data: { email, password }, headers, timeout: 60_000 });
  return answerOf(r, performance.now() - t);
}

// ---------------------------------------------------------------------------------------------
// Tokens made by hand (no app code): HS256 with any key, alg none

const b64url = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

export function signHs256(
  payload: Record<string, unknown>,
  key: Buffer | string,
  header: Record<string, unknown> = { alg: "HS256", typ: "JWT" },
) {
  const unsigned = `${b64url(header)}.${b64url(payload)}`;
  return `${unsigned}.${crypto
    .createHmac(header.alg === "HS512" ? "sha512" : "sha256", key)
    .update(unsigned)
    .digest("base64url")}`;
}

export const decodeJwt = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// tus

export const TUS = { "tus-resumable": "1.0.0" };

export function tusMetadata(m: Record<string, string>) {
  return Object.entries(m)
    .map(([k, v]) => `${k} ${b64(v)}`)
    .join(",");
}

/** Creates a tus upload for `file` and sends its first `firstBytes`; returns its path (/api/v1/uploads/<id>). */
export async function startTusUpload(
  request: APIRequestContext,
  auth: Record<string, string>,
  model: string,
  body: Buffer,
  firstBytes: number,
  version = "1.0",
) {
  const create = await request.post("/api/v1/uploads", {
    headers: {
      ...auth,
      ...TUS,
      "upload-length": String(body.length),
      "upload-metadata": tusMetadata({ org: "demo_org", model, version, filename: "m.pkl" }),
    },
  });
  expect(create.status(), `tus create: ${await create.text()}`).toBe(201);
  const uploadPath = new URL(create.headers()["location"]!, baseURL()).pathname;
  if (firstBytes > 0) {
    const p = await request.patch(uploadPath, {
      headers: { ...auth, ...TUS, "upload-offset": "0", "content-type": "application/offset+octet-stream" },
      data: body.subarray(0, firstBytes),
    });
    expect(p.status(), `tus first PATCH: ${await p.text()}`).toBe(204);
  }
  return uploadPath;
}
