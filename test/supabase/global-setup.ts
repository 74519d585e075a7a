// The real-Supabase lane's setup: a fresh app schema applied the hosted way, users and orgs as a
// Supabase project would have them, and the app's production build started in supabase mode.
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { appNodeOptions } from "@/lib/http/server-process";
import {
  laneDbFromEnv,
  pushMigrations,
  resetAppSchema,
  shapeHostedRole,
  withClient,
  type LaneDb,
  type PushResult,
} from "../../scripts/supabase-lane/hosted-db";
import type { LaneContext, LaneRole } from "./support/context";
import { LANE_SKIPPED, missingLaneEnv } from "./support/env";
import { signApiKey, type LaneUser } from "./support/tokens";

const ROOT = path.resolve(import.meta.dirname, "../..");
// SBLANE_APP_PORT pins the app's port (machines shared by several people); else the first free one here.
const APP_PORTS = process.env.SBLANE_APP_PORT
  ? ([Number(process.env.SBLANE_APP_PORT), Number(process.env.SBLANE_APP_PORT)] as const)
  : ([3300, 3310] as const);
let app: ChildProcess | undefined;

function banner(lines: string[]) {
  const width = Math.max(...lines.map((l) => l.length)) + 4;
  console.log(`\n${"=".repeat(width)}\n${lines.map((l) => `  ${l}`).join("\n")}\n${"=".repeat(width)}\n`);
}

/** Free means nobody answers there AND we may listen on it (a server on [::] may not stop a 127.0.0.1 listen). */
async function isFree(port: number): Promise<boolean> {
  const answers = await new Promise<boolean>((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
  if (answers) return false;
  return new Promise<boolean>((resolve) => {
    const s = net.createServer().once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  for (let port = APP_PORTS[0]; port <= APP_PORTS[1]; port++) if (await isFree(port)) return port;
  throw new Error(`no free port in ${APP_PORTS.join("-")} for the app (set SBLANE_APP_PORT)`);
}

/** The schema, the hosted way; if that fails, the closest stand-in for supautils so the rest can run. */
async function installSchema(db: LaneDb): Promise<LaneContext["install"]> {
  const attempt = async (bypassrls: boolean, storageAdminMember: boolean): Promise<PushResult> => {
    await resetAppSchema(db);
    await shapeHostedRole(db, { bypassrls, storageAdminMember });
    try {
      return await pushMigrations(db);
    } finally {
      await shapeHostedRole(db, { bypassrls: true, storageAdminMember: false });
    }
  };
  const noBypassrls = await attempt(false, false);
  const bypassrls = await attempt(true, false);
  if (bypassrls.ok) {
    // Plain Postgres has no supautils, so the push could not create the storage policies: the
    // one-time step of docs/supabase.md, with a superuser as the SQL editor's stand-in.
    const installed = await withClient(db.superUrl, async (c) => {
      if ((await c.query<{ ok: boolean }>("select public.storage_policies_installed() as ok")).rows[0]?.ok) return false;
      await c.query(fs.readFileSync(path.resolve(import.meta.dirname, "../../supabase/storage-policies.sql"), "utf8"));
      return true;
    });
    return { bypassrls, noBypassrls, policiesByHand: installed };
  }
  const emulatedPolicyGrants = await attempt(true, true);
  if (!emulatedPolicyGrants.ok) {
    throw new Error(`the schema does not install even with supabase_storage_admin membership:\n${emulatedPolicyGrants.output}`);
  }
  return { bypassrls, noBypassrls, emulatedPolicyGrants };
}

async function seed(db: LaneDb, run: string) {
  const email = (r: string) => `${r}.${run}@lane.test`;
  const users = Object.fromEntries(
    (["owner", "admin", "member", "viewer", "otherOwner"] as LaneRole[]).map((r) => [
      r,
      { id: crypto.randomUUID(), email: email(r.toLowerCase()) },
    ]),
  ) as Record<LaneRole, LaneUser>;
  // As the hosted postgres stand-in (the Auth admin API writes auth.users; there is no GoTrue here).
  return withClient(db.hostedUrl, async (c) => {
    await c.query("begin");
    for (const u of Object.values(users)) {
      await c.query(
        `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
           raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_sso_user, is_anonymous)
         values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, '', now(),
           '{"provider":"email","providers":["email"]}', '{}', now(), now(), false, false)`,
        [u.id, u.email],
      );
    }
    const org = async (slug: string, owner: LaneUser) => {
      const { rows } = await c.query<{ id: string }>(
        "insert into public.organizations (slug, name, created_by) values ($1, $2, $3) returning id",
        [slug, `Lane ${slug}`, owner.id],
      );
      return { id: rows[0]!.id, slug };
    };
    const orgA = await org(`lane_${run}`, users.owner);
    const orgB = await org(`lane_${run}_b`, users.otherOwner);
    for (const [role, u] of [
      ["admin", users.admin],
      ["member", users.member],
      ["viewer", users.viewer],
    ] as const) {
      await c.query("insert into public.memberships (org_id, user_id, role) values ($1, $2, $3)", [orgA.id, u.id, role]);
    }
    await c.query("commit");
    return { users, orgA, orgB };
  });
}

async function startApp(env: NodeJS.ProcessEnv, port: number, log: string): Promise<void> {
  if (!fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) {
    throw new Error("no production build: run `npx next build` first (the lane starts it, it does not build it)");
  }
  const out = fs.openSync(log, "w");
  app = spawn(path.join(ROOT, "node_modules", ".bin", "next"), ["start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", out, out],
    detached: false,
  });
  const deadline = Date.now() + 90_000;
  let last = "";
  while (Date.now() < deadline) {
    if (app.exitCode !== null)
      throw new Error(`the app exited (${app.exitCode}); see ${log}:\n${fs.readFileSync(log, "utf8").slice(-2000)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/health`);
      last = `${res.status} ${await res.text()}`;
      // Ours, not a server someone else started on that port meanwhile: our child still runs.
      await new Promise((r) => setTimeout(r, 300));
      if (app.exitCode !== null) continue;
      if (res.status === 200 && /"mode":"supabase"/.test(last)) return;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the app did not become healthy within 90 s; last answer: ${last}; log: ${log}`);
}

export default async function setup(project: TestProject) {
  const missing = missingLaneEnv();
  if (missing.length) {
    banner([LANE_SKIPPED, `missing: ${missing.join(", ")}`, "Every lane test below is reported as skipped; nothing was checked."]);
    project.provide("lane", null);
    return;
  }
  const db = laneDbFromEnv();
  const run = crypto.randomBytes(3).toString("hex");
  const jwtSecret = process.env.SUPABASE_TEST_JWT_SECRET!;
  const storageBase = process.env.SUPABASE_TEST_URL!.replace(/\/+$/, "");
  const anonKey = process.env.SUPABASE_TEST_ANON_KEY!;
  const serviceKey = process.env.SUPABASE_TEST_SERVICE_KEY ?? (await signApiKey(jwtSecret, "service_role"));

  const install = await installSchema(db);
  const { users, orgA, orgB } = await seed(db, run);

  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sblane-app-"));
  const appLog = path.join(dataDir, "app.log");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    SUPABASE_URL: storageBase,
    NEXT_PUBLIC_SUPABASE_URL: storageBase,
    NEXT_PUBLIC_SUPABASE_ANON_KEY: anonKey,
    SUPABASE_JWT_SECRET: jwtSecret,
    SUPABASE_SERVICE_ROLE_KEY: serviceKey,
    DATABASE_URL: db.hostedUrl,
    DATA_DIR: dataDir,
    AUTH_SECRET: crypto.randomBytes(48).toString("base64"),
    APP_URL: `http://127.0.0.1:${port}`,
    // As npm start runs it (lib/http/server-process.ts), plus SBLANE_APP_NODE_OPTIONS for profiling
    // the app under the lane (e.g. --require a CPU-profile hook).
    NODE_OPTIONS: appNodeOptions(process.env.SBLANE_APP_NODE_OPTIONS),
  };
  await startApp(env, port, appLog);

  const lane: LaneContext = {
    appUrl: `http://127.0.0.1:${port}`,
    appLog,
    appPid: app!.pid!,
    storageBase,
    anonKey,
    serviceKey,
    jwtSecret,
    issuer: `${storageBase}/auth/v1`,
    superDbUrl: db.superUrl,
    hostedDbUrl: db.hostedUrl,
    hostedRole: db.hostedRole,
    bucket: process.env.STORAGE_BUCKET ?? "ai-models",
    run,
    orgA,
    orgB,
    users,
    install,
  };
  banner([
    `real-Supabase lane, run ${run}: app ${lane.appUrl} (log ${appLog}), Storage ${storageBase}/storage/v1`,
    `schema via supabase db push as ${db.hostedRole}: ${install.bypassrls.ok ? "installed" : `FAILED (${install.bypassrls.error ?? "see test"})`}` +
      (install.policiesByHand ? " — storage policies by supabase/storage-policies.sql (no supautils here)" : "") +
      (install.emulatedPolicyGrants
        ? " — continuing on a schema pushed with supabase_storage_admin membership (stand-in for supautils)"
        : ""),
  ]);
  project.provide("lane", lane);

  return async () => {
    if (app && app.exitCode === null) {
      app.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 500));
      if (app.exitCode === null) app.kill("SIGKILL");
    }
  };
}
