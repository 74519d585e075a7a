import type { AppConfig, Mode } from "@/lib/config";
import type { Claims, Database } from "@/lib/db/types";
import type { SignInInput, SignUpInput } from "@/lib/validations/auth";
import type { BlobStore } from "@/lib/storage/blob-store";
import type { LocalBlobStore } from "@/lib/storage/adapters/local";
import type { Principal, RequestMeta } from "@/lib/auth/principal";

// The deployment mode as a value: everything that differs between the embedded/postgres modes and
// supabase mode is behind this interface (lib/platform/local.ts, lib/platform/supabase.ts). Nothing
// outside lib/platform asks which mode it is in.

export interface SignInResult {
  accessToken: string;
  expiresIn: number;
  user: { id: string; email: string };
}

export interface AuthProvider {
  /** E-mail + password -> an access token for scripts (throttled and audited in the local modes). */
  signIn(input: SignInInput, meta: RequestMeta): Promise<SignInResult>;
  /** The same, starting a browser session (sets the session cookie). */
  signInBrowser(input: SignInInput, meta: RequestMeta): Promise<void>;
  /** Creates an account. "signed_in": the browser session has started; "confirm_email": Supabase sent a confirmation. */
  signUpBrowser(input: SignUpInput, meta: RequestMeta): Promise<"signed_in" | "confirm_email">;
  signOutBrowser(): Promise<void>;
  /** The verified user of this browser session (cookies), or null. A tampered or expired cookie counts as signed out. */
  principalFromCookies(): Promise<Principal | null>;
  /** Verifies an access token (not an API token): our session tokens, or Supabase Auth's. */
  verifyAccessToken(token: string): Promise<Claims>;
  /** IMPORTANT: admin tools only (the demo seed): creates the account, or resets its password; its id. */
  ensureUser(input: { email: string; password: string; displayName?: string }): Promise<string>;
}

export interface BlobStores {
  /** The store acting for `p`: the shared local store, or Supabase Storage with p's own access token (its policies apply). */
  forPrincipal(p: Principal): Promise<BlobStore>;
  /** The store that holds a version's bytes, by its storage_backend (versions not yet moved by migrate:cloud stay local). */
  forVersion(p: Principal, backend: "local" | "supabase"): Promise<BlobStore>;
  /** The process-wide local store (encrypted at rest when configured). */
  local(): LocalBlobStore;
  /** A store that answers ping() without a user (health). */
  probe(): BlobStore;
  /** IMPORTANT: bypasses storage policies. Admin tools only; throws when the service role key is missing. */
  admin(): BlobStore;
  /** The bytes exactly as they are at rest (ciphertext when local encryption is on): backups. Admin tools only. */
  atRest(): BlobStore;
}

export interface UploadProtocol {
  /** storage_backend recorded for new versions. */
  backend: "local" | "supabase";
}

export interface Platform {
  readonly mode: Mode;
  readonly config: AppConfig;
  /** How the UI and /api/health name this deployment. */
  readonly label: string;
  /** The embedded default shows the demo accounts on the sign-in page and seeds them on first start. */
  readonly demo: boolean;
  /** The process database: opened once; in the local modes its schema is brought up to date first. */
  database(): Promise<Database>;
  /**
   * A connection of its own for an admin command (backup, purge, migrate:cloud…): fails within
   * `timeoutMs` when the database does not answer, and never creates an embedded database that is
   * not there. Environment problems are AppError("unavailable") with what to do.
   */
  openAdminDatabase(opts?: { migrate?: boolean; timeoutMs?: number }): Promise<Database>;
  readonly traits: {
    /** The database serves one process at a time (PGlite): admin commands need the app stopped. */
    singleProcessDatabase: boolean;
    /** Schemas a backup exports: in supabase mode auth and storage belong to Supabase (and its backups). */
    backupSchemas: string[];
    /** DATA_DIR holds this deployment's generated session key, which backups keep. */
    ownsDataDir: boolean;
  };
  readonly auth: AuthProvider;
  readonly blobs: BlobStores;
  readonly uploads: UploadProtocol;
}
