// A small world for service tests: users with uuid ids, two orgs with every role, the services over
// the local platform with a temporary blob store — all on a real database (PGlite or the Postgres
// server). Every call makes new users and orgs (random slugs), so tests never depend on each other.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { toPrincipal, type Principal } from "@/lib/auth/principal";
import { parseConfig, type AppConfig } from "@/lib/config";
import { withService } from "@/lib/db/client";
import type { Claims, Database } from "@/lib/db/types";
import { AppError } from "@/lib/errors";
import { createPlatform } from "@/lib/platform/platform";
import type { Platform } from "@/lib/platform/types";
import { createServices, type Services } from "@/lib/services/services";
import type { BlobStore } from "@/lib/storage/blob-store";
import type { ModelVersion } from "@/lib/storage/types";
import type { UploadMetadata } from "@/lib/validations/models";

export const FIXTURES = path.resolve("test/fixtures/models");

type Who = "owner" | "admin" | "member" | "viewer" | "outsider" | "both";

export interface World {
  config: AppConfig;
  platform: Platform;
  services: Services;
  store: BlobStore;
  dir: string;
  users: Record<Who, Principal>;
  orgs: { a: { id: string; slug: string }; b: { id: string; slug: string } };
  principal(userId: string, extra?: Partial<Claims>): Principal;
  /** A real API token of `who` in org `org` with `role`, resolved the way a request's bearer would be. */
  tokenPrincipal(who: Who, org: "a" | "b", role: "admin" | "member" | "viewer"): Promise<Principal & { token: string; tokenId: string }>;
  /** Uploads a fixture file to org A as `who`. */
  upload(
    who: Who,
    model: string,
    version: string,
    file?: string,
    extra?: { metadata?: UploadMetadata; contentLength?: number },
  ): Promise<ModelVersion>;
  /** The object key of a one-file version's file (read with the service connection: any status). */
  keyOf(v: Pick<ModelVersion, "id">): Promise<string>;
  cleanup(): void;
}

export async function makeWorld(
  db: Database,
  opts: { maxUploadBytes?: number; env?: Record<string, string>; platform?: (p: Platform) => Platform } = {},
): Promise<World> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fm-world-"));
  const parsed = parseConfig({ DATA_DIR: dir, ...opts.env });
  const config = opts.maxUploadBytes ? { ...parsed, maxUploadBytes: opts.maxUploadBytes } : parsed;
  const base = createPlatform(config, { database: db });
  const platform = opts.platform ? opts.platform(base) : base;
  const services = createServices(platform, db);
  const store = platform.blobs.local();
  const tag = crypto.randomBytes(3).toString("hex");
  const orgs = { a: { id: crypto.randomUUID(), slug: `org_a_${tag}` }, b: { id: crypto.randomUUID(), slug: `org_b_${tag}` } };
  const roles: Record<Who, [string | null, string | null]> = {
    owner: ["owner", null],
    admin: ["admin", null],
    member: ["member", null],
    viewer: ["viewer", null],
    outsider: [null, "owner"],
    both: ["member", "member"],
  };
  const users = {} as World["users"];
  const principal = (userId: string, extra: Partial<Claims> = {}): Principal => {
    const claims: Claims = { sub: userId, email: `${userId}@test`, role: "authenticated", ...extra };
    return { claims, userId, email: claims.email, via: "session" };
  };
  await withService(db, async (tx) => {
    const ids = Object.fromEntries(Object.keys(roles).map((k) => [k, crypto.randomUUID()]));
    for (const [name, id] of Object.entries(ids)) {
      await tx.query("insert into auth.users (id, email) values ($1, $2)", [id, `${name}-${tag}@test.dev`]);
    }
    for (const [key, org] of Object.entries(orgs) as ["a" | "b", { id: string; slug: string }][]) {
      await tx.query("insert into public.organizations (id, slug, name) values ($1, $2, $3)", [
        org.id,
        org.slug,
        `Org ${key.toUpperCase()}`,
      ]);
      for (const [name, [ra, rb]] of Object.entries(roles)) {
        const role = key === "a" ? ra : rb;
        if (role) await tx.query("insert into public.memberships (org_id, user_id, role) values ($1, $2, $3)", [org.id, ids[name], role]);
      }
    }
    for (const [name, id] of Object.entries(ids)) users[name as Who] = principal(id!, { email: `${name}-${tag}@test.dev` });
  });
  const upload: World["upload"] = (who, model, version, file = "credit_risk_v2.1.pkl", extra = {}) =>
    services.uploads.uploadVersion(users[who], {
      org: orgs.a.slug,
      model,
      version,
      fileName: path.basename(file),
      body: fs.createReadStream(fixture(file)),
      contentLength: fs.statSync(fixture(file)).size,
      ...extra,
    });
  const tokenPrincipal: World["tokenPrincipal"] = async (who, org, role) => {
    const { token, record } = await services.tokens.create(users[who], { org: orgs[org].slug, name: `test ${role}`, role });
    const claims = await services.tokens.resolve(token);
    if (!claims) throw new Error("a fresh token did not resolve");
    return { ...toPrincipal(claims, "api_token"), token, tokenId: record.id };
  };
  return {
    config,
    platform,
    services,
    store,
    dir,
    users,
    orgs,
    principal,
    tokenPrincipal,
    upload,
    keyOf: async (v) =>
      withService(db, async (tx) => {
        const { rows } = await tx.query<{ object_key: string }>(
          "select b.object_key from public.version_files f join public.blobs b on b.id = f.blob_id where f.version_id = $1",
          [v.id],
        );
        if (rows.length !== 1) throw new Error(`version ${v.id} has ${rows.length} files`);
        return rows[0]!.object_key;
      }),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export const fixture = (name: string) => path.join(FIXTURES, name);
export const sha256File = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** The AppError code a promise rejects with, or "ok". */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return e.code;
    throw e;
  }
  return "ok";
}
