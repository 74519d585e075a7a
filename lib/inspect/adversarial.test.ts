import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { inspectFile } from "./inspect";
import { inspectBytes, inspectStored } from "./test-support";
import type { InspectionResult } from "./types";

/**
 * The adversarial corpus (test/fixtures/adversarial, built by its generate.py with the real libraries):
 * every file is judged as its manifest says (verdict, format, the dangerous globals it must name),
 * read from disk, streamed in 7-byte chunks with no size and no random access, and streamed in 64 KiB
 * chunks with random access. Benign files may not be called dangerous.
 */

const DIR = path.resolve(process.cwd(), "test/fixtures/adversarial");

interface Entry {
  file: string;
  class: "callable" | "opcode" | "container" | "non-pickle" | "secret" | "benign";
  expected_verdict: "safe" | "suspicious" | "dangerous" | "invalid";
  format: string;
  framework?: string;
  dangerous_globals: string[];
  technique: string;
  source: string;
}

const manifest = JSON.parse(fs.readFileSync(path.join(DIR, "MANIFEST.json"), "utf8")) as Entry[];

function check(r: InspectionResult, e: Entry): void {
  expect({ verdict: r.verdict, format: r.format }).toEqual({ verdict: e.expected_verdict, format: e.format });
  if (e.framework) expect(r.framework).toBe(e.framework);
  for (const g of e.dangerous_globals) expect(r.globals).toContainEqual({ name: g, verdict: "dangerous" });
}

describe("adversarial corpus: inspectFile", () => {
  it.each(manifest.map((e) => [e.file, e] as const))("%s", async (_n, e) => {
    check(await inspectFile(path.join(DIR, "files", e.file)), e);
  });
});

describe("adversarial corpus: 7-byte chunks, no size, no random access", () => {
  it.each(manifest.map((e) => [e.file, e] as const))("%s", async (_n, e) => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(DIR, "files", e.file)));
    check(await inspectBytes(bytes, e.file, 7), e);
  });
});

describe("adversarial corpus: 64 KiB chunks with random access", () => {
  it.each(manifest.map((e) => [e.file, e] as const))("%s", async (_n, e) => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(DIR, "files", e.file)));
    check(await inspectStored(bytes, e.file), e);
  });
});

describe("adversarial corpus as a whole", () => {
  it("covers every class, and no benign file is called dangerous", async () => {
    const classes = new Set(manifest.map((e) => e.class));
    expect([...classes].sort()).toEqual(["benign", "callable", "container", "non-pickle", "opcode", "secret"]);
    const benign = manifest.filter((e) => e.class === "benign");
    expect(benign.length).toBeGreaterThanOrEqual(30);
    const flagged: string[] = [];
    for (const e of benign) if ((await inspectFile(path.join(DIR, "files", e.file))).verdict === "dangerous") flagged.push(e.file);
    expect(flagged).toEqual([]);
  });

  it("every malicious file is expected dangerous and every file in files/ is in the manifest", () => {
    for (const e of manifest) if (e.class !== "benign") expect(`${e.file}:${e.expected_verdict}`).toBe(`${e.file}:dangerous`);
    expect(fs.readdirSync(path.join(DIR, "files")).sort()).toEqual(manifest.map((e) => e.file).sort());
  });
});
