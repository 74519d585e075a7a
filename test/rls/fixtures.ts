// The world every RLS case runs against, built once per database through the service connection
// (RLS bypassed). Two organizations, users in every role, versions in every status, aliases (and so
// alias history), audit events, API tokens in every state, and storage.objects rows.
import crypto from "node:crypto";
import { withService } from "@/lib/db/client";
import type { Database, Queryable } from "@/lib/db/types";

export const ORG_A_SLUG = "alpha_org";
export const ORG_B_SLUG = "beta_org";
export const BUCKET = "ai-models";
export const OTHER_BUCKET = "other-bucket";

/** Users by the part they play. `holder` is an owner of A and a member of B; its API token is a viewer token for A. */
export const USERS = ["ownerA", "adminA", "memberA", "viewerA", "memberB", "ownerB", "revoked", "both", "holder", "outsider"] as const;
export type UserKey = (typeof USERS)[number];

export interface World {
  users: Record<UserKey, { id: string; email: string }>;
  orgA: string;
  orgB: string;
  modelA: string;
  modelB: string;
  /** A: ready 1.0.0 (memberA), ready 2.0.0 (adminA), pending 1.1.0 (memberA), quarantined 0.9.0, deleted 0.8.0. */
  vReadyA: string;
  vReady2A: string;
  vPendingA: string;
  /** memberA's reservations 1.2.0 (leased, nothing stored yet) and 1.3.0 (lease expired, bytes stored). */
  vUploadingA: string;
  vStaleA: string;
  vQuarA: string;
  vDeletedA: string;
  vReadyB: string;
  /** Alias `production` of each model (A -> vReadyA, B -> vReadyB); their creation wrote the history rows. */
  histA: string;
  histB: string;
  auditA: string;
  auditB: string;
  /** memberA's own account event (org_id null). */
  auditAccountMemberA: string;
  tokMemberA: string;
  tokHolderA: string;
  tokHolderB: string;
  tokMemberB: string;
  tokRevokedA: string;
  tokExpiredA: string;
  tokOfRevokedUser: string;
  hashes: { memberA: string; holderA: string; revokedA: string; expiredA: string; ofRevokedUser: string };
  objReadyA: string;
  objQuarA: string;
  objPendingA: string;
  objDeletedA: string;
  objStaleA: string;
  /** memberA's commit 1.4.0, still pending, whose file is already stored (blob stored, object in the bucket). */
  objCommitA: string;
  /** Blobs: A's ready 1.0.0 (stored), memberA's pending 1.1.0, B's ready 1.0.0 (stored). */
  blobReadyA: string;
  blobPendingA: string;
  blobB: string;
  objOfRevokedA: string;
  objB: string;
  objGhost: string;
  objOtherBucket: string;
}

const hex = () => crypto.randomBytes(32).toString("hex");
const sha = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

async function one(tx: Queryable, text: string, params: unknown[]): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(text, params);
  const id = rows[0]?.id;
  if (!id) throw new Error(`fixture statement returned no id: ${text}`);
  return id;
}

/** Builds the world (committed) and returns its ids. */
export async function buildWorld(db: Database): Promise<World> {
  return withService(db, async (tx) => {
    const users = Object.fromEntries(
      USERS.map((k) => [k, { id: crypto.randomUUID(), email: `${k.toLowerCase()}@rls.test` }]),
    ) as World["users"];
    for (const u of Object.values(users)) {
      await tx.query("insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, $3)", [
        u.id,
        u.email,
        JSON.stringify({ display_name: u.email.split("@")[0] }),
      ]);
    }
    // The creator trigger makes created_by the first owner.
    const orgA = await one(tx, "insert into public.organizations (slug, name, created_by) values ($1, 'Org A', $2) returning id", [
      ORG_A_SLUG,
      users.ownerA.id,
    ]);
    const orgB = await one(tx, "insert into public.organizations (slug, name, created_by) values ($1, 'Org B', $2) returning id", [
      ORG_B_SLUG,
      users.ownerB.id,
    ]);
    const members: [string, UserKey, string][] = [
      [orgA, "adminA", "admin"],
      [orgA, "memberA", "member"],
      [orgA, "viewerA", "viewer"],
      [orgA, "revoked", "member"],
      [orgA, "both", "member"],
      [orgA, "holder", "owner"],
      [orgB, "memberB", "member"],
      [orgB, "both", "member"],
      [orgB, "holder", "member"],
    ];
    for (const [org, user, role] of members) {
      await tx.query("insert into public.memberships (org_id, user_id, role) values ($1, $2, $3)", [org, users[user].id, role]);
    }

    const modelA = await one(
      tx,
      "insert into public.models (org_id, slug, name, created_by) values ($1, 'model_a', 'Model A', $2) returning id",
      [orgA, users.memberA.id],
    );
    const modelB = await one(
      tx,
      "insert into public.models (org_id, slug, name, created_by) values ($1, 'model_b', 'Model B', $2) returning id",
      [orgB, users.memberB.id],
    );

    // Each version holds one file, whose blob sits at the key the version's object had before file sets.
    const blobs: Record<string, string> = {};
    const version = async (org: string, slug: string, model: string, v: string, status: string, by: UserKey) => {
      const id = await one(
        tx,
        // Pending first: a version's file list is fixed once it leaves pending.
        `insert into public.model_versions (org_id, model_id, version, size_bytes, sha256, status, created_by)
         values ($1, $2, $3, $4, $5, 'pending', $6) returning id`,
        [org, model, v, status === "pending" ? null : 1024, status === "pending" ? null : sha(v), users[by].id],
      );
      const key = `${slug}/${model === modelA ? "model_a" : "model_b"}_v${v}.bin`;
      blobs[key] = await one(
        tx,
        `insert into public.blobs (org_id, object_key, status, size_bytes, sha256, upload_version_id, created_by)
         values ($1, $2, $3, $4, $5, $6, $7) returning id`,
        [
          org,
          key,
          status === "pending" ? "pending" : "stored",
          status === "pending" ? null : 1024,
          status === "pending" ? null : sha(v),
          id,
          users[by].id,
        ],
      );
      await tx.query("insert into public.version_files (version_id, path, org_id, blob_id) values ($1, 'model.bin', $2, $3)", [
        id,
        org,
        blobs[key],
      ]);
      if (status !== "pending") await tx.query("update public.model_versions set status = $2 where id = $1", [id, status]);
      return id;
    };
    const vReadyA = await version(orgA, ORG_A_SLUG, modelA, "1.0.0", "ready", "memberA");
    const vReady2A = await version(orgA, ORG_A_SLUG, modelA, "2.0.0", "ready", "adminA");
    const vPendingA = await version(orgA, ORG_A_SLUG, modelA, "1.1.0", "pending", "memberA");
    const vUploadingA = await version(orgA, ORG_A_SLUG, modelA, "1.2.0", "pending", "memberA");
    const vStaleA = await version(orgA, ORG_A_SLUG, modelA, "1.3.0", "pending", "memberA");
    await tx.query("update public.model_versions set lease_until = now() - interval '1 minute' where id = $1", [vStaleA]);
    // A commit whose file is already stored while the commit is not complete yet.
    await version(orgA, ORG_A_SLUG, modelA, "1.4.0", "pending", "memberA");
    await tx.query("update public.blobs set status = 'stored', size_bytes = 1024, sha256 = $2 where object_key = $1", [
      `${ORG_A_SLUG}/model_a_v1.4.0.bin`,
      sha("1.4.0"),
    ]);
    const vQuarA = await version(orgA, ORG_A_SLUG, modelA, "0.9.0", "quarantined", "memberA");
    const vDeletedA = await version(orgA, ORG_A_SLUG, modelA, "0.8.0", "deleted", "memberA");
    const vReadyB = await version(orgB, ORG_B_SLUG, modelB, "1.0.0", "ready", "memberB");

    await tx.query("insert into public.model_aliases (model_id, alias, org_id, version_id) values ($1, 'production', $2, $3)", [
      modelA,
      orgA,
      vReadyA,
    ]);
    await tx.query("insert into public.model_aliases (model_id, alias, org_id, version_id) values ($1, 'production', $2, $3)", [
      modelB,
      orgB,
      vReadyB,
    ]);
    const histA = await one(tx, "select id::text as id from public.model_alias_history where model_id = $1", [modelA]);
    const histB = await one(tx, "select id::text as id from public.model_alias_history where model_id = $1", [modelB]);

    const audit = (org: string | null, actor: UserKey, action: string) =>
      one(tx, "insert into public.audit_events (org_id, actor_id, action) values ($1, $2, $3) returning id::text as id", [
        org,
        users[actor].id,
        action,
      ]);
    const auditA = await audit(orgA, "memberA", "model.create");
    const auditB = await audit(orgB, "memberB", "model.create");
    const auditAccountMemberA = await audit(null, "memberA", "account.sign_in");

    const hashes = { memberA: hex(), holderA: hex(), revokedA: hex(), expiredA: hex(), ofRevokedUser: hex() };
    const token = (org: string, user: UserKey, role: string, hash: string, extra: { revoked?: boolean; expired?: boolean } = {}) =>
      one(
        tx,
        `insert into public.api_tokens (org_id, user_id, name, token_hash, token_prefix, role, revoked_at, expires_at)
         values ($1, $2, 'ci', $3, 'fm_test', $4, $5, $6) returning id`,
        [
          org,
          users[user].id,
          hash,
          role,
          extra.revoked ? new Date(Date.now() - 60_000) : null,
          extra.expired ? new Date(Date.now() - 60_000) : null,
        ],
      );
    const tokMemberA = await token(orgA, "memberA", "member", hashes.memberA);
    const tokHolderA = await token(orgA, "holder", "viewer", hashes.holderA);
    const tokHolderB = await token(orgB, "holder", "member", hex());
    const tokMemberB = await token(orgB, "memberB", "member", hex());
    const tokRevokedA = await token(orgA, "memberA", "member", hashes.revokedA, { revoked: true });
    const tokExpiredA = await token(orgA, "memberA", "member", hashes.expiredA, { expired: true });
    const tokOfRevokedUser = await token(orgA, "revoked", "member", hashes.ofRevokedUser);

    await tx.query("insert into storage.buckets (id, name, public) values ($1, $1, false) on conflict (id) do nothing", [OTHER_BUCKET]);
    const object = (bucket: string, name: string, owner: UserKey) =>
      one(tx, "insert into storage.objects (bucket_id, name, owner, owner_id) values ($1, $2, $3::uuid, $3::text) returning id", [
        bucket,
        name,
        users[owner].id,
      ]);
    const objReadyA = await object(BUCKET, `${ORG_A_SLUG}/model_a_v1.0.0.bin`, "memberA");
    const objQuarA = await object(BUCKET, `${ORG_A_SLUG}/model_a_v0.9.0.bin`, "memberA");
    const objPendingA = await object(BUCKET, `${ORG_A_SLUG}/model_a_v1.1.0.bin`, "memberA");
    const objStaleA = await object(BUCKET, `${ORG_A_SLUG}/model_a_v1.3.0.bin`, "memberA");
    const objDeletedA = await object(BUCKET, `${ORG_A_SLUG}/model_a_v0.8.0.bin`, "memberA");
    const objCommitA = await object(BUCKET, `${ORG_A_SLUG}/model_a_v1.4.0.bin`, "memberA");
    const objOfRevokedA = await object(BUCKET, `${ORG_A_SLUG}/left_behind.bin`, "revoked");
    const objB = await object(BUCKET, `${ORG_B_SLUG}/model_b_v1.0.0.bin`, "memberB");
    const objGhost = await object(BUCKET, "ghost_org/model_v1.0.0.bin", "memberA");
    const objOtherBucket = await object(OTHER_BUCKET, `${ORG_A_SLUG}/model_a_v1.0.0.bin`, "memberA");
    const blobReadyA = blobs[`${ORG_A_SLUG}/model_a_v1.0.0.bin`]!;
    const blobPendingA = blobs[`${ORG_A_SLUG}/model_a_v1.1.0.bin`]!;
    const blobB = blobs[`${ORG_B_SLUG}/model_b_v1.0.0.bin`]!;

    // The revoked member was in A (and made a token and a file there); the membership is gone now.
    await tx.query("delete from public.memberships where org_id = $1 and user_id = $2", [orgA, users.revoked.id]);

    return {
      users,
      orgA,
      orgB,
      modelA,
      modelB,
      vReadyA,
      vReady2A,
      vPendingA,
      vUploadingA,
      vStaleA,
      vQuarA,
      vDeletedA,
      vReadyB,
      histA,
      histB,
      auditA,
      auditB,
      auditAccountMemberA,
      tokMemberA,
      tokHolderA,
      tokHolderB,
      tokMemberB,
      tokRevokedA,
      tokExpiredA,
      tokOfRevokedUser,
      hashes,
      objReadyA,
      objQuarA,
      objPendingA,
      objDeletedA,
      objStaleA,
      objCommitA,
      objOfRevokedA,
      objB,
      objGhost,
      objOtherBucket,
      blobReadyA,
      blobPendingA,
      blobB,
    };
  });
}
