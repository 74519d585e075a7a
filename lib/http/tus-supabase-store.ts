import "server-only";
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash, type Hash } from "node:crypto";
import { once } from "node:events";
import type http from "node:http";
import { PassThrough, Transform, type Readable } from "node:stream";
import { DataStore, Upload } from "@tus/utils";
import type { Principal } from "@/lib/auth/principal";
import { withUser } from "@/lib/db/client";
import { deleteResumable, findResumable, insertResumable, type ResumableRow } from "@/lib/db/queries/resumable";
import { AppError, ERRORS, isAppError } from "@/lib/errors";
import { createInspector } from "@/lib/inspect/inspect";
import type { Inspector, InspectionResult } from "@/lib/inspect/types";
import type { Services } from "@/lib/services/services";
import type { ResumableSession } from "@/lib/storage/blob-store";
import { discardBody } from "@/lib/storage/hash-stream";
import { RESUMABLE_CHUNK_BYTES, contentTypeFor } from "@/lib/storage/limits";
import { asTus } from "./tus-errors";

// Supabase mode's resumable uploads: our tus endpoint (the same protocol, hooks and checks as in the
// local modes) streams every chunk on to Supabase Storage's own resumable upload as it arrives. The
// bytes reach Storage once; they are hashed and inspected on the way, and the chunk that would
// complete the object is sent only when size, SHA-256 and inspection agree — so Storage never creates
// an object we would refuse.
//
// Several app servers: which Storage upload an id is lives in public.resumable_uploads; any server can
// continue an upload. The running hash lives in this process's memory: a chunk that arrives at
// another server (or after a restart) is still forwarded, and the file is then verified by reading it
// back once from Storage when it completes (two passes in that case only).

interface Caller {
  p?: Principal;
  services?: Services;
  /** What this request already learned of an upload: tus asks twice per PATCH (hook, then handler). */
  found?: Map<string, Upload>;
  /** Our record of each upload this request looked up (the PATCH then needs it again). */
  rows?: Map<string, ResumableRow>;
  /**
   * A PATCH's bytes, read from Node's request (lib/http/node-server.ts rawRequestOf) instead of the
   * web stream tus is handed: three stream layers less per 64 KiB, which on a 2-core machine is CPU
   * Storage itself needs. tus then gets the request without a body (lib/http/resumable.ts handleTus).
   */
  body?: http.IncomingMessage;
  /** A PATCH's Upload-Offset (what the client believes Storage holds). */
  patchOffset?: number;
}

/** The caller of the tus request being handled (set by the endpoint's hooks, read by the store). */
export const tusCaller = new AsyncLocalStorage<Caller>();

interface Running {
  offset: number;
  size: number;
  hash: Hash;
  inspector: Inspector;
  expectedSha256?: string;
  touched: number;
}

/** What a completed upload measured, for onUploadFinish (this process only). */
export interface Streamed {
  size: number;
  sha256: string;
  inspection: InspectionResult;
}

const STATE_TTL_MS = 24 * 3600 * 1000;

/**
 * Forwards one PATCH of ours as consecutive PATCHes to Storage, each ending on a 6 MiB boundary of the
 * file (Storage's chunk size), streamed: nothing is held beyond the streams' own buffers. A client's
 * 36 MiB chunk (SUPABASE_APP_RESUMABLE_CHUNK_BYTES) becomes six Storage chunks, so the work our
 * endpoint does per request is paid once for all six. Returns the new offset Storage confirmed.
 */
async function appendInStorageChunks(
  session: ResumableSession,
  url: string,
  offset: number,
  body: Readable,
  /** Where this PATCH's bytes end, when the client said (its Content-Length): each part then says its length too. */
  end: number | undefined,
): Promise<number> {
  let at = offset;
  let part: PassThrough | undefined;
  let sending: Promise<number> | undefined;
  const finishPart = async () => {
    part!.end();
    const confirmed = await sending!;
    part = sending = undefined;
    if (confirmed !== at) throw new AppError("unavailable", "Supabase Storage confirmed a different offset than was sent.");
  };
  try {
    for await (const received of body) {
      let chunk = received as Buffer;
      while (chunk.length) {
        if (!part) {
          part = new PassThrough();
          const boundary = at - (at % RESUMABLE_CHUNK_BYTES) + RESUMABLE_CHUNK_BYTES;
          sending = session.append(url, at, part, end === undefined ? undefined : Math.min(boundary, end) - at);
          sending.catch(() => {});
        }
        const piece = chunk.subarray(0, RESUMABLE_CHUNK_BYTES - (at % RESUMABLE_CHUNK_BYTES));
        chunk = chunk.subarray(piece.length);
        at += piece.length;
        // Storage refusing mid-chunk settles `sending` (rejected) before any drain: stop waiting then.
        if (!part.write(piece)) await Promise.race([once(part, "drain"), sending!]);
        if (at % RESUMABLE_CHUNK_BYTES === 0) await finishPart();
      }
    }
    if (part) await finishPart();
  } catch (e) {
    part?.destroy(e as Error);
    // Our own refusal (length, checksum, inspection) stands; a broken client stream yields to what
    // Storage said, if it said anything.
    if (isAppError(e)) throw e;
    if (sending) {
      // A refusal Storage sent says more than the stream we cut.
      const refused = await sending.then(
        () => undefined,
        (r: unknown) => r,
      );
      if (isAppError(refused)) throw refused;
    }
    throw e;
  }
  return at;
}

/** Where a PATCH's bytes end by its Content-Length (undefined when it did not say). */
function declaredEnd(req: http.IncomingMessage, offset: number): number | undefined {
  const length = req.headers["content-length"];
  return length !== undefined && /^\d+$/.test(length) ? offset + Number(length) : undefined;
}

export class SupabaseTusStore extends DataStore {
  private readonly running = new Map<string, Running>();
  private readonly finished = new Map<string, Streamed>();

  constructor() {
    super();
    this.extensions = ["creation", "termination"];
    setInterval(() => {
      const old = Date.now() - STATE_TTL_MS;
      for (const [id, r] of this.running) if (r.touched < old) this.running.delete(id);
    }, 3600_000).unref();
  }

  private caller(): { p: Principal; services: Services } {
    const c = tusCaller.getStore();
    if (!c?.p || !c.services) throw ERRORS.signInRequired();
    return { p: c.p, services: c.services };
  }

  private async session(): Promise<ResumableSession> {
    const { p, services } = this.caller();
    const store = await services.platform.blobs.forPrincipal(p);
    if (!store.resumable) throw new AppError("internal", "This store has no resumable uploads.");
    return store.resumable;
  }

  /**
   * The measured result of a completed upload (undefined when this process did not see all of it),
   * and the end of our record of it: Storage now holds the object.
   */
  async takeFinished(id: string): Promise<Streamed | undefined> {
    const f = this.finished.get(id);
    this.finished.delete(id);
    this.running.delete(id);
    const { p, services } = this.caller();
    await withUser(services.db, p.claims, (tx) => deleteResumable(tx, id));
    return f;
  }

  override create(upload: Upload): Promise<Upload> {
    return asTus(() => this.createUpload(upload));
  }

  private async createUpload(upload: Upload): Promise<Upload> {
    const { p, services } = this.caller();
    const m = upload.metadata ?? {};
    const commit = await services.uploads.commits.getCommit(p, m.version_id ?? "");
    const file = m.path ? commit.files.find((f) => f.path === m.path) : commit.files[0];
    if (!file || upload.size === undefined) throw ERRORS.noSuchUpload();
    const url = await (await this.session()).create(file.key, upload.size, contentTypeFor(file.path));
    await withUser(services.db, p.claims, (tx) =>
      insertResumable(tx, {
        id: upload.id,
        user_id: p.userId,
        version_id: commit.id,
        blob_id: file.blobId,
        path: file.path,
        size_bytes: upload.size!,
        storage_url: url,
        one_file: !m.commit,
      }),
    );
    this.running.set(upload.id, this.start(file.path, upload.size, file.sha256 ?? undefined));
    return new Upload({ ...upload, offset: 0, metadata: { ...m, path: file.path } });
  }

  private start(path: string, size: number, expectedSha256?: string): Running {
    return {
      offset: 0,
      size,
      hash: createHash("sha256"),
      inspector: createInspector({ fileName: path.slice(path.lastIndexOf("/") + 1), size }),
      expectedSha256,
      touched: Date.now(),
    };
  }

  override getUpload(id: string): Promise<Upload> {
    return asTus(() => this.findUpload(id));
  }

  private async findUpload(id: string): Promise<Upload> {
    // Within one request nothing has moved since the first look (each look costs a query and a HEAD
    // to Storage); across requests, Storage's offset is asked again (any app server may have appended).
    const ctx = tusCaller.getStore();
    const seen = ctx?.found?.get(id);
    if (seen) return seen;
    const found = await this.lookUp(id);
    if (ctx) (ctx.found ??= new Map()).set(id, found);
    return found;
  }

  /** Our record of an upload, read once per request. */
  private async row(id: string): Promise<ResumableRow | undefined> {
    const ctx = tusCaller.getStore();
    const seen = ctx?.rows?.get(id);
    if (seen) return seen;
    const { p, services } = this.caller();
    const row = await withUser(services.db, p.claims, (tx) => findResumable(tx, id));
    if (row && ctx) (ctx.rows ??= new Map()).set(id, row);
    return row;
  }

  private async lookUp(id: string): Promise<Upload> {
    const row = await this.row(id);
    if (!row) throw ERRORS.noSuchUpload();
    // A PATCH that continues exactly where this process's last append ended needs no HEAD to Storage
    // (one request less per chunk): Storage itself refuses the PATCH (409) should another server have
    // appended since, and HEAD — which a client asks after any refusal — always asks Storage.
    const ctx = tusCaller.getStore();
    const mine = this.running.get(id);
    const offset =
      mine && ctx?.patchOffset === mine.offset
        ? mine.offset
        : ((await (await this.session()).offset(row.storage_url)) ?? (this.finished.has(id) ? row.size_bytes : undefined));
    if (offset === undefined) throw ERRORS.noSuchUpload();
    return new Upload({
      id,
      size: row.size_bytes,
      offset,
      metadata: {
        version_id: row.version_id,
        ...(row.one_file ? {} : { commit: row.version_id }),
        path: row.path,
        user_id: row.user_id,
      },
    });
  }

  override write(stream: Readable, id: string, offset: number): Promise<number> {
    return asTus(() => this.append(stream, id, offset));
  }

  private async append(tusStream: Readable, id: string, offset: number): Promise<number> {
    const { p, services } = this.caller();
    const raw = tusCaller.getStore()?.body;
    try {
      return await this.appendFrom(raw ?? tusStream, raw ? declaredEnd(raw, offset) : undefined, id, offset, p, services);
    } catch (e) {
      // TRAP: what is left of Node's request must be drained, not destroyed (that would take the socket
      // and our answer with it): lib/storage/hash-stream.ts discardBody.
      if (raw && !raw.complete) discardBody(raw);
      throw e;
    }
  }

  private async appendFrom(
    stream: Readable,
    end: number | undefined,
    id: string,
    offset: number,
    p: Principal,
    services: Services,
  ): Promise<number> {
    const row = await this.row(id);
    if (!row) throw ERRORS.noSuchUpload();
    let run = this.running.get(id);
    // Only a hash that has seen every byte before this offset can vouch for the file.
    if (run && run.offset !== offset) run = undefined;
    if (!run && offset === 0) {
      const commit = await services.uploads.commits.getCommit(p, row.version_id);
      run = this.start(row.path, row.size_bytes, commit.files.find((f) => f.path === row.path)?.sha256 ?? undefined);
    }
    this.running.delete(id);
    const session = await this.session();
    let seen = offset;
    const through = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        seen += chunk.length;
        if (seen > row.size_bytes) return cb(new AppError("length_mismatch", "More bytes than the upload's length."));
        if (!run) return cb(null, chunk);
        run.hash.update(chunk);
        run.inspector.write(chunk);
        if (seen < row.size_bytes) return cb(null, chunk);
        // The chunk that completes the object goes out only for a file we accept.
        const sha256 = run.hash.digest("hex");
        if (run.expectedSha256 && sha256 !== run.expectedSha256) return cb(ERRORS.checksumMismatch());
        run.inspector.end().then(
          (inspection) => {
            this.finished.set(id, { size: row.size_bytes, sha256, inspection });
            cb(null, chunk);
          },
          (e: Error) => cb(e),
        );
      },
    });
    stream.once("error", (e) => through.destroy(e));
    // A client that hangs up mid-chunk: Node's request closes without an end (and pipe() would wait).
    stream.once("close", () => {
      if (!stream.readableEnded)
        through.destroy(new AppError("bad_request", "The upload was cancelled before it finished.", { aborted: true }));
    });
    const next = await appendInStorageChunks(
      session,
      row.storage_url,
      offset,
      stream.pipe(through),
      end === undefined ? undefined : Math.min(end, row.size_bytes),
    );
    if (run && next === seen && next < row.size_bytes) {
      run.offset = next;
      run.touched = Date.now();
      this.running.set(id, run);
    }
    return next;
  }

  override remove(id: string): Promise<void> {
    return asTus(() => this.terminate(id));
  }

  private async terminate(id: string): Promise<void> {
    const { p, services } = this.caller();
    this.running.delete(id);
    this.finished.delete(id);
    const row = await this.row(id);
    if (!row) return;
    await (await this.session()).terminate(row.storage_url);
    await withUser(services.db, p.claims, (tx) => deleteResumable(tx, id));
  }

  /** Storage expires its own abandoned uploads; ours are removed with their commit. */
  override async deleteExpired(): Promise<number> {
    return 0;
  }

  override getExpiration(): number {
    return 0;
  }
}
