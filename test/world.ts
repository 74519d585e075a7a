// A small world for service tests: users with uuid ids, two orgs with every role, a ModelStorage
// over a temporary local blob store — all on a real database (PGlite or the Postgres server).
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Principal } from "@/lib/auth/principal";
import { parseConfig, type AppConfig } from "@/lib/config";
import { withService } from "@/lib/db/client";
import type { Claims, Database } from "@/lib/db/types";
import { createBlobStore } from "@/lib/storage/create-blob-store";
import type { BlobStore } from "@/lib/storage/blob-store";
import { ModelStorage } from "@/lib/storage/model-storage";
import type { OrgRole } from "@/lib/validations/models";

export const FIXTURES = path.resolve("test/fixtures/models");

export interface World {
  config: AppConfig;
  storage: ModelStorage;
  store: BlobStore;
  dir: string;
  users: Record<"owner" | "admin" | "member" | "viewer" | "outsider" | "both", Principal>;
  orgs: { a: { id: string; slug: string }; b: { id: string; slug: string } };
  principal(userId: string, extra?: Partial<Claims>): Principal;
  cleanup(): void;
}

export async function makeWorld(db: Database, opts: { maxUploadBytes?: number } = {}): Promise<World> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fm-world-"));
  const config = { ...parseConfig({ DATA_DIR: dir }), ...(opts.maxUploadBytes ? { maxUploadBytes: opts.maxUploadBytes } : {}) };
  const store = createBlobStore({ kind: "local", rootDir: config.storageDir, bucket: config.bucket });
  const storage = new ModelStorage({ config, db, blobStoreFor: () => store });
  const tag = crypto.randomBytes(3).toString("hex");
  const orgs = { a: { id: crypto.randomUUID(), slug: `org_a_${tag}` }, b: { id: crypto.randomUUID(), slug: `org_b_${tag}` } };
  const roles: Record<keyof World["users"], [OrgRole | null, OrgRole | null]> = {
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
  await withService(async (tx) => {
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
    for (const [name, id] of Object.entries(ids))
      users[name as keyof World["users"]] = principal(id!, { email: `${name}-${tag}@test.dev` });
  }, db);
  return { config, storage, store, dir, users, orgs, principal, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export const fixture = (name: string) => path.join(FIXTURES, name);
export const sha256File = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
