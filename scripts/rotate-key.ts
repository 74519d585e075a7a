// npm run rotate-key [-- --dry-run] [--encrypt-existing]
// Re-wraps every stored object's data key with STORAGE_ENCRYPTION_KEY (the new master key),
// unwrapping with STORAGE_ENCRYPTION_KEY_PREVIOUS (the old one). Only each object's header is
// rewritten. --encrypt-existing also encrypts objects stored before encryption was switched on.
// Needs no database: safe while the app runs if the app already has both keys configured.
// Exit: 0 ok, 1 some objects failed or are still plaintext (listed), 2 usage error.
import { parseCliArgs, runCli } from "@/lib/ops/cli";
import { EXIT, loadOpsConfig, UsageError } from "@/lib/ops/ops-env";
import { rotateStoreKeys } from "@/lib/ops/rotate-key";
import { createPlatform } from "@/lib/platform/platform";
import { createEncryptedBlobStore } from "@/lib/storage/adapters/encrypted";
import { createLocalBlobStore } from "@/lib/storage/adapters/local";

const USAGE = `Usage: npm run rotate-key [-- --dry-run] [--encrypt-existing]

  STORAGE_ENCRYPTION_KEY           the new master key (32 bytes, base64: openssl rand -base64 32)
  STORAGE_ENCRYPTION_KEY_PREVIOUS  the old master key, to unwrap objects not yet rotated
  --dry-run                        count objects per master key id; change nothing
  --encrypt-existing               also encrypt objects stored in plaintext (switching encryption on)`;

runCli("rotate-key", async () => {
  const { values } = parseCliArgs(
    process.argv.slice(2),
    { "dry-run": { type: "boolean" }, "encrypt-existing": { type: "boolean" } },
    USAGE,
  );
  const config = loadOpsConfig();
  const keys = config.encryption;
  if (!keys) throw new UsageError(`STORAGE_ENCRYPTION_KEY is not set.\n\n${USAGE}`);
  if (createPlatform(config).uploads.backend !== "local")
    throw new UsageError("Encryption at rest applies to the local store; in supabase mode Supabase Storage encrypts the bucket itself.");
  const store = createEncryptedBlobStore(createLocalBlobStore({ rootDir: config.storageDir, bucket: config.bucket }), keys);
  console.log(`Master key id ${keys.current.id}${keys.previous ? ` (previous ${keys.previous.id})` : ""}; objects in ${store.dir}`);
  const r = await rotateStoreKeys(store, {
    dryRun: values["dry-run"],
    encryptExisting: values["encrypt-existing"],
    log: (l) => console.log(l),
  });
  console.log(
    `Objects per key id before this run: ${
      Object.entries(r.byKeyId)
        .map(([k, n]) => `${k}: ${n}`)
        .join(", ") || "(none)"
    }`,
  );
  console.log(
    `${values["dry-run"] ? "DRY RUN — would re-wrap" : "Re-wrapped"} ${r.rewrapped.length}, already current ${r.current.length}, ${values["dry-run"] ? "would encrypt" : "encrypted"} ${r.encrypted.length}, failed ${r.failed.length}.`,
  );
  for (const f of r.failed) console.error(`FAILED ${f.key}: ${f.error}`);
  if (r.plaintext.length)
    console.error(
      `${r.plaintext.length} object(s) are stored in plaintext and unreadable while encryption is on; rerun with --encrypt-existing.`,
    );
  return r.failed.length || r.plaintext.length ? EXIT.failed : EXIT.ok;
});
