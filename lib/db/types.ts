/** The part of a connection every query path uses: bound parameters only, never concatenated SQL. */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number }>;
}

export interface Database extends Queryable {
  readonly kind: "pglite" | "postgres";
  /** Runs several statements (migrations). Never with user input. */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in a transaction. `setup` (trusted SQL, no parameters) runs right after BEGIN, in the
   * same round trip where the driver allows it: withUser sets the caller's role and claims with it.
   */
  transaction<T>(fn: (tx: Queryable & { exec(sql: string): Promise<void> }) => Promise<T>, opts?: { setup?: string }): Promise<T>;
  close(): Promise<void>;
  /** PGlite only: a gzip tarball of the data directory (test templates). */
  dumpDataDir?(): Promise<Blob | File>;
}

/** Claims of a verified session, in the shape Supabase Auth issues (RLS reads them via auth.jwt()). */
export interface Claims {
  sub: string;
  email?: string;
  role: "authenticated";
  exp?: number;
  aud?: string | string[];
  /** Set when the request came with an API token: pins the org and caps the role (see current_org_role()). */
  fm_token?: { id: string; org_id: string; role: "admin" | "member" | "viewer" };
  [key: string]: unknown;
}
