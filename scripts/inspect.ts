/**
 * Inspect model files without executing them: `npx tsx scripts/inspect.ts <file>…` (or `npm run inspect -- <file>…`).
 * Prints one JSON object per file per line: file, format, framework, verdict, globals, findings, metadata, …
 *
 * Exit codes:
 *   0  every file was inspected and none is dangerous (invalid or suspicious files still exit 0)
 *   1  at least one file is dangerous
 *   2  usage error, or a path that is missing / not a regular file / unreadable (the others are still
 *      inspected, and 2 wins over 1)
 */
import fs from "node:fs";
import { inspectFile } from "../lib/inspect/inspect";

async function main(): Promise<number> {
  const files = process.argv.slice(2);
  if (files.length === 0 || files.includes("--help") || files.includes("-h")) {
    process.stderr.write("usage: tsx scripts/inspect.ts <model-file>...\n");
    return 2;
  }
  let code = 0;
  for (const file of files) {
    try {
      const st = fs.statSync(file);
      if (!st.isFile()) throw new Error("not a regular file");
      fs.accessSync(file, fs.constants.R_OK);
    } catch (e) {
      process.stdout.write(`${JSON.stringify({ file, error: (e as Error).message })}\n`);
      code = Math.max(code, 2);
      continue;
    }
    const r = await inspectFile(file);
    process.stdout.write(`${JSON.stringify({ file, ...r })}\n`);
    if (r.verdict === "dangerous") code = Math.max(code, 1);
  }
  return code;
}

// exitCode rather than process.exit(): stdout may be an asynchronous pipe that must drain first
main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 2;
  },
);
