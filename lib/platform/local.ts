import "server-only";
import fs from "node:fs";
import path from "node:path";
import { cookies } from "next/headers";
import { signInLocal, signUpLocal } from "@/lib/auth/local";
import { hashPassword } from "@/lib/auth/password";
import { toPrincipal } from "@/lib/auth/principal";
import { clearSessionCookie, setSessionCookie } from "@/lib/auth/session-cookie";
import { SESSION_COOKIE, sessionSecret, verifySessionToken } from "@/lib/auth/session-token";
import type { LocalConfig } from "@/lib/config";
import { withService } from "@/lib/db/client";
import { syncBucketSetting } from "@/lib/db/bucket";
import { migrate } from "@/lib/db/migrate";
import { upsertUserWithPassword } from "@/lib/db/queries/users";
import { openPGlite } from "@/lib/db/pglite";
import { openPostgres } from "@/lib/db/postgres";
import type { Database } from "@/lib/db/types";
import { ERRORS } from "@/lib/errors";
import { createLocalBlobStore } from "@/lib/storage/adapters/local";
import { createBlobStore } from "@/lib/storage/create-blob-store";
import type { LocalBlobStore } from "@/lib/storage/adapters/local";
import { openAnsweringPostgres } from "./admin-db";
import type { AuthProvider, Platform } from "./types";

const LOCKED = /already open in another process/;

/** The database of a local mode for an admin command (see Platform.openAdminDatabase). */
async function openLocalAdminDatabase(config: LocalConfig, opts: { migrate?: boolean; timeoutMs?: number }): Promise<Database> {
  let db: Database;
  if (config.mode === "embedded") {
    if (!fs.existsSync(path.join(config.dbDir, "PG_VERSION"))) {
      throw ERRORS.unavailable(
        `No embedded database in ${config.dbDir}. Set DATA_DIR to the app's data directory (or DATABASE_URL for postgres mode).`,
      );
    }
    try {
      db = await openPGlite(config.dbDir);
    } catch (e) {
      const message = (e as Error).message;
      if (!LOCKED.test(message)) throw e;
      throw ERRORS.unavailable(
        `${message.replace(/ Stop the other process.*$/, "")}\n` +
          `The embedded database serves one process at a time. Stop the app, or run against DATABASE_URL (postgres mode), then retry.`,
      );
    }
  } else {
    db = await openAnsweringPostgres(config.databaseUrl, opts.timeoutMs);
  }
  if (opts.migrate) {
    try {
      await migrate(db);
    } catch (e) {
      await db.close().catch(() => {});
      throw e;
    }
  }
  return db;
}

/** Opens the database of a local mode (PGlite in DATA_DIR, or DATABASE_URL) and brings its schema up to date. */
export async function openLocalDatabase(config: LocalConfig): Promise<Database> {
  const db = config.mode === "embedded" ? await openPGlite(config.dbDir) : openPostgres(config.databaseUrl);
  try {
    await migrate(db);
    await syncBucketSetting(db, config.bucket, { createBucketRow: true });
  } catch (e) {
    console.error("[fairmind] could not open the database:", (e as Error).message);
    await db.close().catch(() => {});
    throw e;
  }
  return db;
}

/** The configured local store: encrypted at rest when STORAGE_ENCRYPTION_KEY is set. */
export function createConfiguredLocalStore(config: Pick<LocalConfig, "storageDir" | "bucket" | "encryption">): LocalBlobStore {
  return createBlobStore({ kind: "local", rootDir: config.storageDir, bucket: config.bucket, encryption: config.encryption });
}

const TEMP_IDLE_MS = 10 * 60_000;
const TEMP_SWEEP_EVERY_MS = 5 * 60_000;

/** A process-wide local store: created once, with one sweeper of what dead uploads left behind. */
export function sharedLocalStore(config: Pick<LocalConfig, "storageDir" | "bucket" | "encryption">): () => LocalBlobStore {
  let store: LocalBlobStore | undefined;
  return () => {
    if (!store) {
      const created = createConfiguredLocalStore(config);
      // A temp file nobody has written to for TEMP_IDLE_MS is what a crash or a dropped client left
      // mid-upload: an upload in flight writes continuously, and an idle connection is closed after
      // two minutes (lib/http/node-server.ts). Swept at start and every few minutes.
      const sweep = () =>
        created.sweepTemp(TEMP_IDLE_MS).then(
          (n) => n && console.log(`[fairmind] removed ${n} temporary upload file(s) left by dead uploads`),
          (e: Error) => console.error("[fairmind] temp sweep failed:", e.message),
        );
      void sweep();
      setInterval(() => void sweep(), TEMP_SWEEP_EVERY_MS).unref();
      store = created;
    }
    return store;
  };
}

function localAuth(config: LocalConfig, database: () => Promise<Database>): AuthProvider {
  const secret = () => sessionSecret(config);
  const auth: AuthProvider = {
    async signIn(input, meta) {
      const { accessToken, expiresIn, user } = await signInLocal(await database(), config, input, meta);
      return { accessToken, expiresIn, user };
    },
    async signInBrowser(input, meta) {
      await setSessionCookie((await auth.signIn(input, meta)).accessToken, config);
    },
    async signUpBrowser(input, meta) {
      await signUpLocal(await database(), input, meta);
      await auth.signInBrowser({ email: input.email, password: input.password }, meta);
      return "signed_in";
    },
    signOutBrowser: clearSessionCookie,
    async principalFromCookies() {
      const token = (await cookies()).get(SESSION_COOKIE)?.value;
      if (!token) return null;
      try {
        return toPrincipal(await verifySessionToken(token, secret()), "session", token);
      } catch {
        return null;
      }
    },
    verifyAccessToken: (token) => verifySessionToken(token, secret()),
    async ensureUser(input) {
      const passwordHash = await hashPassword(input.password);
      const meta = input.displayName ? { display_name: input.displayName } : {};
      return withService(await database(), (tx) => upsertUserWithPassword(tx, { email: input.email, passwordHash, meta }));
    },
  };
  return auth;
}

const LABELS = { embedded: "Embedded (PGlite + local disk)", postgres: "Postgres + local disk" } as const;

/** The embedded default and postgres mode: our own sign-in, bytes on local disk. */
export function createLocalPlatform(config: LocalConfig, opts: { database?: Database } = {}): Platform {
  let db: Promise<Database> | undefined = opts.database ? Promise.resolve(opts.database) : undefined;
  const database = () => {
    db ??= openLocalDatabase(config).catch((e) => {
      db = undefined; // a later request tries again (a database that was down may be back)
      throw e;
    });
    return db;
  };
  const local = sharedLocalStore(config);
  return {
    mode: config.mode,
    config,
    label: LABELS[config.mode],
    demo: config.mode === "embedded" && config.seedDemo === "auto",
    database,
    openAdminDatabase: (o = {}) => openLocalAdminDatabase(config, o),
    traits: {
      singleProcessDatabase: config.mode === "embedded",
      backupSchemas: ["public", "fairmind", "auth", "storage"],
      ownsDataDir: true,
    },
    auth: localAuth(config, database),
    blobs: {
      forPrincipal: async () => local(),
      forVersion: async () => local(),
      local,
      probe: local,
      admin: local,
      atRest: () => createLocalBlobStore({ rootDir: config.storageDir, bucket: config.bucket }),
    },
    uploads: {
      backend: "local",
    },
  };
}
