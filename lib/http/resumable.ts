import "server-only";
import fs from "node:fs";
import path from "node:path";
import { Server } from "@tus/server";
import { FileStore } from "@tus/file-store";
import type { Principal } from "@/lib/auth/principal";
import { getConfig } from "@/lib/config";
import { AppError, ERRORS, toAppError } from "@/lib/errors";
import { getServices, type Services } from "@/lib/services/services";
import { serializeVersion } from "@/lib/storage/serialize";
import { principalFromRequest, requestMetaFrom } from "./caller";

export const TUS_PATH = "/api/v1/uploads";
const STATE = globalThis as unknown as { __fairmindTus?: Server };

// tus hooks reject with {status_code, body}; give them our one JSON error shape.
const tusError = (e: unknown) => {
  const err = toAppError(e);
  return { status_code: err.status, body: JSON.stringify(err.toJSON()) };
};

async function callerOf(req: Request): Promise<{ p: Principal; services: Services }> {
  const services = await getServices();
  const p = await principalFromRequest(req, services);
  if (!p) throw ERRORS.signInRequired();
  return { p, services };
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
  fs.mkdirSync(directory, { recursive: true });
  const datastore = new FileStore({ directory, expirationPeriodInMilliseconds: 24 * 3600 * 1000 });
  const server = new Server({
    path: TUS_PATH,
    datastore,
    maxSize: config.maxUploadBytes,
    respectForwardedHeaders: true,
    exposedHeaders: ["X-Version-Id"],
    async onIncomingRequest(req, uploadId) {
      try {
        const { p, services } = await callerOf(req);
        // Only the user who created an upload may continue, inspect or cancel it.
        const upload = await datastore.getUpload(uploadId).catch(() => undefined);
        if (upload && upload.metadata?.user_id !== p.userId) throw new AppError("not_found", "No such upload.");
        if (upload && req.method === "DELETE" && upload.metadata?.version_id) {
          // Cancelling releases the reserved version number.
          const r = await services.uploads.findReservation(p, upload.metadata.version_id).catch(() => undefined);
          if (r) await services.uploads.abandonUpload(p, r, { deleteBytes: false });
        }
      } catch (e) {
        throw tusError(e);
      }
    },
    async onUploadCreate(req, upload) {
      try {
        const { p, services } = await callerOf(req);
        const m = upload.metadata ?? {};
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
        return { metadata: { ...m, version_id: r.versionId, user_id: p.userId } };
      } catch (e) {
        throw tusError(e);
      }
    },
    async onUploadFinish(req, upload) {
      const file = path.join(directory, upload.id);
      try {
        const { p, services } = await callerOf(req);
        const r = await services.uploads.findReservation(p, upload.metadata?.version_id ?? "");
        const v = await services.uploads.completeUpload(p, r, { file }, { contentLength: upload.size }, requestMetaFrom(req.headers));
        return {
          status_code: 200,
          headers: { "content-type": "application/json", "x-version-id": v.id },
          body: JSON.stringify(serializeVersion(v)),
        };
      } catch (e) {
        throw tusError(e);
      } finally {
        await datastore.remove(upload.id).catch(() => {});
      }
    },
  });
  STATE.__fairmindTus = server;
  return server;
}
