// The BlobStore contract against a REAL Supabase Storage (hosted or `supabase start`), never a fake.
//
//   SUPABASE_TEST_URL        project URL, e.g. https://xyz.supabase.co or http://127.0.0.1:54321
//   SUPABASE_TEST_ANON_KEY   the project's anon (publishable) key
//   SUPABASE_TEST_JWT_SECRET the project's JWT secret: the test mints a user access token with it
//   SUPABASE_TEST_BUCKET     optional, default "ai-models" (must exist, private)
//   SUPABASE_TEST_USER_ID    optional uuid of the test user (default: a random uuid)
//   SUPABASE_TEST_PREFIX     optional first folder of the test keys, default "contract-tests"
//
// The storage policies must let that user insert, select and delete under SUPABASE_TEST_PREFIX.
// With this app's migrations that means: the user is a writing member of the organization whose
// slug is the prefix (or use a scratch bucket with an "authenticated may write" policy).
import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { describe } from "vitest";
import { runBlobStoreContract } from "./blob-store.contract";
import { createSupabaseBlobStore } from "./supabase";

const url = process.env.SUPABASE_TEST_URL;
const anonKey = process.env.SUPABASE_TEST_ANON_KEY;
const jwtSecret = process.env.SUPABASE_TEST_JWT_SECRET;
const configured = Boolean(url && anonKey && jwtSecret);

const SKIPPED =
  "SKIPPED: set SUPABASE_TEST_URL, SUPABASE_TEST_ANON_KEY, SUPABASE_TEST_JWT_SECRET to run the Supabase Storage contract suite";
if (!configured) console.warn(`\n[lib/storage/adapters/supabase.test.ts] ${SKIPPED}\n`);

async function mintAccessToken(userId: string): Promise<string> {
  return new SignJWT({ role: "authenticated", aud: "authenticated", email: `contract-${userId.slice(0, 8)}@example.test` })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(jwtSecret));
}

describe.skipIf(!configured)(configured ? `Supabase Storage at ${url}` : SKIPPED, () => {
  runBlobStoreContract("supabase", async () => {
    const userId = process.env.SUPABASE_TEST_USER_ID ?? randomUUID();
    const store = createSupabaseBlobStore({
      url: url!,
      anonKey: anonKey!,
      accessToken: await mintAccessToken(userId),
      bucket: process.env.SUPABASE_TEST_BUCKET ?? "ai-models",
    });
    return {
      store,
      keyPrefix: process.env.SUPABASE_TEST_PREFIX ?? "contract-tests",
      // tus keeps one 6 MiB chunk for retries and reads ahead up to 8 MiB; still under the 20 MiB body
      // (supabase-wiring.test.ts measures the same path against a local tus server).
      memoryBudgetBytes: 16 * 1024 * 1024,
      cleanup: async () => {},
    };
  });
});
