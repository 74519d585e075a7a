import "server-only";
import { SignJWT } from "jose";
import { toPrincipal, type Principal } from "@/lib/auth/principal";
import { verifySupabaseAccessToken } from "@/lib/auth/supabase-token";
import type { Claims } from "@/lib/db/types";
import type { SupabaseConfig } from "@/lib/config";
import { syncBucketSetting } from "@/lib/db/bucket";
import { openPostgres } from "@/lib/db/postgres";
import type { Database } from "@/lib/db/types";
import { ERRORS } from "@/lib/errors";
import { createBlobStore } from "@/lib/storage/create-blob-store";
import { RESUMABLE_CHUNK_BYTES } from "@/lib/storage/limits";
import { createAdminClient } from "@/lib/supabase/admin";
import { createNodeSupabaseClient } from "@/lib/supabase/node-client";
import { createClient as createServerClient } from "@/lib/supabase/server";
import { openAnsweringPostgres } from "./admin-db";
import { sharedLocalStore } from "./local";
import type { AuthProvider, Platform } from "./types";

function supabaseAuth(config: SupabaseConfig): AuthProvider {
  const s = config.supabase;
  return {
    async signIn(input) {
      const { data, error } = await createNodeSupabaseClient(s.url, s.anonKey).auth.signInWithPassword(input);
      if (error || !data.session) throw ERRORS.wrongCredentials();
      return {
        accessToken: data.session.access_token,
        expiresIn: data.session.expires_in,
        user: { id: data.user.id, email: data.user.email ?? input.email },
      };
    },
    async signInBrowser(input) {
      const { error } = await (await createServerClient(s)).auth.signInWithPassword(input);
      if (error) throw ERRORS.wrongCredentials();
    },
    async signUpBrowser(input) {
      const { data, error } = await (
        await createServerClient(s)
      ).auth.signUp({
        email: input.email,
        password: input.password,
        options: { data: { display_name: input.displayName } },
      });
      if (error) throw ERRORS.unavailable(error.message);
      return data.session ? "signed_in" : "confirm_email";
    },
    async signOutBrowser() {
      await (await createServerClient(s)).auth.signOut();
    },
    async principalFromCookies() {
      const supabase = await createServerClient(s);
      const { data } = await supabase.auth.getClaims();
      if (!data?.claims?.sub) return null;
      const { data: session } = await supabase.auth.getSession();
      return toPrincipal({ ...(data.claims as unknown as Claims), role: "authenticated" }, "session", session.session?.access_token);
    },
    verifyAccessToken: (token) => verifySupabaseAccessToken(token, s),
    async ensureUser(input) {
      // Through the Auth admin API (service role: seeding only), so GoTrue owns its users as always.
      const admin = createAdminClient(s);
      for (let page = 1; ; page++) {
        const { data, error } = await admin.auth.admin.listUsers({ page, perPage: 1000 });
        if (error) throw new Error(`Could not list users: ${error.message}`);
        const found = data.users.find((u) => u.email?.toLowerCase() === input.email.toLowerCase());
        if (found) {
          const { error: e } = await admin.auth.admin.updateUserById(found.id, { password: input.password, email_confirm: true });
          if (e) throw new Error(`Could not update ${input.email}: ${e.message}`);
          return found.id;
        }
        if (data.users.length < 1000) break;
      }
      const { data, error } = await admin.auth.admin.createUser({
        email: input.email,
        password: input.password,
        email_confirm: true,
        user_metadata: input.displayName ? { display_name: input.displayName } : {},
      });
      if (error || !data.user) throw new Error(`Could not create ${input.email}: ${error?.message}`);
      return data.user.id;
    },
  };
}

const MINTED_TOKEN_SECONDS = 300;
/** A token with less than this left is not sent: a chunk may take that long to arrive. */
const TOKEN_MARGIN_SECONDS = 60;

/** Seconds since the epoch at which a JWT expires (its signature was checked when the request came in). */
function expiryOf(jwt: string): number {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp?: unknown };
    return typeof payload.exp === "number" ? payload.exp : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * Supabase Storage must see the user, so it applies its own policies; it checks the token on every
 * request, and a multi-gigabyte upload outlives any one token. The source answers a token valid for
 * at least another minute: the session's own access token while it lasts; then — and always for
 * API-token requests — a 5-minute token for the same user (same subject, role `authenticated`),
 * signed with the project's JWT secret. Without SUPABASE_JWT_SECRET sessions use their token until it
 * expires (Storage's refusal then reads "session expired") and API tokens cannot reach Storage.
 */
function storageTokenSource(config: SupabaseConfig, p: Principal): () => Promise<string> {
  const secret = config.supabase.jwtSecret;
  let current = p.accessToken;
  let expires = current ? expiryOf(current) : 0;
  return async () => {
    const now = Date.now() / 1000;
    if (current && expires - now > TOKEN_MARGIN_SECONDS) return current;
    if (!secret) {
      if (current) return current;
      throw ERRORS.unavailable("API tokens need SUPABASE_JWT_SECRET in supabase mode; sign in with /api/v1/auth/sign-in instead.");
    }
    current = await new SignJWT({ role: "authenticated", email: p.email, aud: "authenticated" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(p.userId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(now) + MINTED_TOKEN_SECONDS)
      .sign(new TextEncoder().encode(secret));
    expires = Math.floor(now) + MINTED_TOKEN_SECONDS;
    return current;
  };
}

/** Supabase mode: Supabase Auth, the project's database (schema by `supabase db push`), Storage for bytes. */
export function createSupabasePlatform(config: SupabaseConfig, opts: { database?: Database } = {}): Platform {
  const s = config.supabase;
  const db = opts.database ?? openPostgres(config.databaseUrl);
  let bucketSynced: Promise<void> | undefined;
  const storeWith = (accessToken: string | (() => Promise<string>), anonKey = s.anonKey) =>
    createBlobStore({ kind: "supabase", url: s.url, anonKey, accessToken, bucket: config.bucket });
  const forPrincipal = async (p: Principal) => {
    const token = storageTokenSource(config, p);
    await token(); // fail here, not mid-request, when there is no way to reach Storage as this caller
    return storeWith(token);
  };
  const local = sharedLocalStore(config);
  const serviceStore = () => {
    if (!s.serviceRoleKey) throw ERRORS.unavailable("This admin tool needs SUPABASE_SERVICE_ROLE_KEY.");
    return storeWith(s.serviceRoleKey, s.serviceRoleKey);
  };
  return {
    mode: "supabase",
    config,
    label: "Supabase",
    demo: false,
    // IMPORTANT: never migrated from here: `supabase db push` owns the schema of a Supabase project.
    database: async () => {
      bucketSynced ??= syncBucketSetting(db, config.bucket, { createBucketRow: false }).catch((e: Error) => {
        // A connection role without rights on storage_settings: /api/health names the mismatch, if any.
        console.error(`[fairmind] could not record STORAGE_BUCKET in public.storage_settings: ${e.message}`);
      });
      await bucketSynced;
      return db;
    },
    openAdminDatabase: (o = {}) => openAnsweringPostgres(config.databaseUrl, o.timeoutMs),
    traits: { singleProcessDatabase: false, backupSchemas: ["public", "fairmind"], ownsDataDir: false },
    auth: supabaseAuth(config),
    blobs: {
      forPrincipal,
      // Versions not yet moved by `npm run migrate:cloud` are still read from local disk (the version
      // row's RLS has already decided the caller may read them).
      forVersion: async (p, backend) => (backend === "local" ? local() : forPrincipal(p)),
      local,
      probe: () => storeWith(s.anonKey),
      admin: () => serviceStore(),
      atRest: () => serviceStore(),
    },
    uploads: {
      backend: "supabase",
      directUploadTarget: (r) => ({
        protocol: "tus",
        endpoint: `${s.url.replace(/\/$/, "")}/storage/v1/upload/resumable`,
        chunk_size: RESUMABLE_CHUNK_BYTES,
        metadata: { bucketName: config.bucket, objectName: r.key, contentType: "application/octet-stream", cacheControl: "3600" },
        headers: { "x-upsert": "false" },
        complete_url: `/api/v1/uploads/reservations/${r.versionId}/complete`,
      }),
    },
  };
}
