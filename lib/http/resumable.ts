import "server-only";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Server } from "@tus/server";
import { FileStore } from "@tus/file-store";
import type { Principal } from "@/lib/auth/principal";
import { getConfig } from "@/lib/config";
import { AppError, ERRORS, toResponse, type ErrorCode } from "@/lib/errors";
import { getPlatform } from "@/lib/platform/platform";
import { getServices, type Services } from "@/lib/services/services";
import { serializeCommitFile, serializeVersion } from "@/lib/storage/serialize";
import type { CommitFile } from "@/lib/storage/commits";
import { principalFromRequest, requestMetaFrom } from "./caller";
import { rawRequestOf } from "./node-server";
import { tusError } from "./tus-errors";
import { SupabaseTusStore, tusCaller } from "./tus-supabase-store";

export const TUS_PATH = "/api/v1/uploads";
/** Upload ids are ours (namingFunction below): 32 hex digits. Anything else is not an upload. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;
const UPLOAD_EXPIRY_MS = 24 * 3600 * 1000;

/**
 * Removes what dead uploads left in the tus directory: uploads past their expiry (a day without a
 * byte), and files no upload record points at. At start, then hourly.
 */
function sweepTusDirectory(datastore: FileStore, directory: string) {
  const sweep = async () => {
    const expired = await datastore.deleteExpired().catch(() => 0);
    let orphans = 0;
    const now = Date.now();
    for (const name of await fs.promises.readdir(directory).catch(() => [] as string[])) {
      const id = name.replace(/\.json$/, "");
      const file = path.join(directory, name);
      const st = await fs.promises.stat(file).catch(() => undefined);
      if (!st || now - st.mtimeMs < 3600_000) continue;
      const counterpart = path.join(directory, name.endsWith(".json") ? id : `${id}.json`);
      if (!UPLOAD_ID.test(id) || !fs.existsSync(counterpart)) {
        await fs.promises.rm(file, { force: true });
        orphans++;
      }
    }
    if (expired || orphans) console.log(`[fairmind] tus sweep: ${expired} expired upload(s), ${orphans} orphaned file(s) removed`);
  };
  void sweep();
  setInterval(() => void sweep(), 3600_000).unref();
}
const STATE = globalThis as unknown as { __fairmindTus?: Server };

/** The caller of a tus request; also handed to the Supabase store (which works as the caller). */
async function callerOf(req: Request): Promise<{ p: Principal; services: Services }> {
  const services = await getServices();
  const p = await principalFromRequest(req, services);
  if (!p) throw ERRORS.signInRequired();
  const ctx = tusCaller.getStore();
  if (ctx) Object.assign(ctx, { p, services });
  return { p, services };
}

const TUS_CODES: Record<number, ErrorCode> = {
  400: "bad_request",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  410: "not_found",
  412: "bad_request",
  413: "payload_too_large",
  415: "unsupported_media_type",
  460: "checksum_mismatch",
};

/** tus answers its protocol errors in plain text, and ours as text/plain: every error leaves in our JSON shape. */
async function inOurErrorShape(res: Response): Promise<Response> {
  if (res.status < 400) return res;
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const code = TUS_CODES[res.status] ?? (res.status >= 500 ? "internal" : "bad_request");
    body = { error: { code, message: text.trim().slice(0, 200) || "The upload request was refused." } };
  }
  const headers = new Headers(res.headers);
  headers.set("content-type", "application/json");
  headers.delete("content-length");
  return new Response(JSON.stringify(body), { status: res.status, headers });
}

/**
 * The tus endpoint: an id that is not one of ours is a 404 before tus reads anything (encoded
 * slashes, NUL, "..", a ".json" suffix), and every error comes back in the API's JSON shape.
 */
export async function handleTus(req: Request): Promise<Response> {
  const rest = new URL(req.url).pathname.slice(TUS_PATH.length);
  if (rest !== "" && rest !== "/" && !UPLOAD_ID.test(rest.slice(1))) {
    return toResponse(ERRORS.noSuchUpload(), { "tus-resumable": "1.0.0", "cache-control": "no-store" });
  }
  let forTus = req;
  const ctx: Parameters<typeof tusCaller.run>[0] = {};
  if (req.method === "PATCH") {
    const offset = Number(req.headers.get("upload-offset") ?? NaN);
    if (Number.isSafeInteger(offset)) ctx.patchOffset = offset;
    // Supabase mode reads the bytes from Node's own request (tus-supabase-store.ts): tus gets the same
    // request without a body, so nothing else reads them.
    const raw = getPlatform().uploads.backend === "supabase" ? rawRequestOf(req) : undefined;
    if (raw) {
      ctx.body = raw;
      forTus = new Request(req.url, { method: req.method, headers: req.headers });
    }
  }
  return tusCaller.run(ctx, async () => inOurErrorShape(await getTusServer().handleWeb(forTus)));
}

/**
 * The resumable upload endpoint of the local modes (tus 1.0 with @tus/server and a file store under
 * DATA_DIR/tus). Creating an upload reserves the version — so a duplicate version or a viewer is
 * refused before any byte is sent — and completing it goes through the same finalize step as a
 * single PUT: size and SHA-256 checked, inspected, made visible in one transaction.
 */
export function getTusServer(): Server {
  if (STATE.__fairmindTus) return STATE.__fairmindTus;
  const config = getConfig();
  const directory = path.join(config.dataDir, "tus");
  // Local modes: chunks land in DATA_DIR/tus, and the finished file goes into the store (one more
  // local pass). Supabase mode: chunks stream on to Storage's own resumable upload (tus-supabase-store.ts).
  const proxied = getPlatform().uploads.backend === "supabase" ? new SupabaseTusStore() : undefined;
  const fileStore = proxied ? undefined : new FileStore({ directory, expirationPeriodInMilliseconds: UPLOAD_EXPIRY_MS });
  const datastore = proxied ?? fileStore!;
  if (fileStore) {
    fs.mkdirSync(directory, { recursive: true });
    sweepTusDirectory(fileStore, directory);
  }
  const server = new Server({
    path: TUS_PATH,
    datastore,
    maxSize: config.maxUploadBytes,
    // IMPORTANT: the Location of a new upload is a path, never built from X-Forwarded-Host or Host.
    respectForwardedHeaders: false,
    relativeLocation: true,
    namingFunction: () => randomBytes(16).toString("hex"),
    exposedHeaders: ["X-Version-Id"],
    async onIncomingRequest(req, uploadId) {
      try {
        const { p, services } = await callerOf(req);
        if (req.method === "POST") return; // creating: onUploadCreate reserves the version
        // The one upload-ownership check: a well-formed id of an upload this user created, else 404
        // (the same answer for another user's upload as for none: ids do not leak).
        const upload = UPLOAD_ID.test(uploadId) ? await datastore.getUpload(uploadId).catch(() => undefined) : undefined;
        if (!upload || upload.metadata?.user_id !== p.userId) throw ERRORS.noSuchUpload();
        const versionId = upload.metadata?.version_id ?? "";
        if (req.method === "DELETE") {
          // Cancelling a one-file upload releases the reserved version number; cancelling one file
          // of a commit leaves the commit (the client may send that file again, or abandon it).
          if (!upload.metadata?.commit) await services.uploads.abandonUpload(p, { versionId }).catch(() => {});
        } else if (!(await services.uploads.renewLease(p, versionId))) {
          // The reservation is gone (taken over after its lease ran out, or abandoned): start again.
          await datastore.remove(uploadId).catch(() => {});
          throw ERRORS.noSuchUpload();
        }
      } catch (e) {
        throw tusError(e);
      }
    },
    async onUploadCreate(req, upload): Promise<{ metadata: Record<string, string> }> {
      try {
        const { p, services } = await callerOf(req);
        const m = upload.metadata ?? {};
        if (m.commit) {
          // One file of a commit (POST …/commits announced it): its bytes, resumable.
          const commit = await services.uploads.commits.getCommit(p, m.commit);
          const file = commit.files.find((f) => f.path === m.path);
          if (!file) throw ERRORS.noSuchFileInCommit(m.path ?? "");
          if (file.state === "stored")
            throw new AppError("conflict", `${file.path} is already stored: nothing to upload.`, { path: file.path });
          if (file.size !== null && upload.size !== undefined && upload.size !== file.size)
            throw ERRORS.storedSizeMismatch(upload.size, file.size);
          return { metadata: { commit: commit.id, path: file.path, version_id: commit.id, user_id: p.userId } };
        }
        let extra: Record<string, unknown> = {};
        if (m.metadata) {
          try {
            extra = JSON.parse(m.metadata);
          } catch {
            throw new AppError("bad_request", "Upload-Metadata 'metadata' is not valid JSON.");
          }
        }
        const r = await services.uploads.reserveUpload(
          p,
          {
            org: m.org ?? "",
            model: m.model ?? "",
            version: m.version ?? "",
            fileName: m.filename ?? "",
            size: upload.size,
            metadata: extra,
          },
          requestMetaFrom(req.headers),
        );
        return { metadata: { ...(m as Record<string, string>), version_id: r.versionId, user_id: p.userId } };
      } catch (e) {
        throw tusError(e);
      }
    },
    async onUploadFinish(req, upload): Promise<{ status_code: number; headers: Record<string, string>; body: string }> {
      const m = upload.metadata ?? {};
      const commitId = m.version_id ?? "";
      try {
        const { p, services } = await callerOf(req);
        const meta = requestMetaFrom(req.headers);
        // A one-file upload started with org/model/version metadata completes its version too.
        const oneFile = !m.commit;
        const filePath = m.path ?? (await services.uploads.findReservation(p, commitId)).path;
        let f: CommitFile;
        try {
          if (proxied) {
            const streamed = await proxied.takeFinished(upload.id);
            f = streamed
              ? await services.uploads.settleStreamed(p, commitId, filePath, streamed)
              : await services.uploads.verifyStoredFile(p, commitId, filePath);
          } else {
            f = await services.uploads.uploadFile(
              p,
              commitId,
              filePath,
              { file: path.join(directory, upload.id) },
              { contentLength: upload.size },
            );
          }
        } catch (e) {
          if (oneFile) await services.uploads.abandonUpload(p, { versionId: commitId }).catch(() => {});
          throw e;
        }
        if (!oneFile)
          return { status_code: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(serializeCommitFile(f)) };
        const v = await services.uploads.commits.completeCommit(p, commitId, meta);
        return {
          status_code: 200,
          headers: { "content-type": "application/json", "x-version-id": v.id },
          body: JSON.stringify(serializeVersion(v)),
        };
      } catch (e) {
        throw tusError(e);
      } finally {
        if (fileStore) await fileStore.remove(upload.id).catch(() => {});
      }
    },
  });
  STATE.__fairmindTus = server;
  return server;
}
