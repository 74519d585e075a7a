import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { encodeHeader, readTarEntries, readTarEntryData, TarFormatError, TarWriter } from "./tar";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fm-tar-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function writeArchive(file: string, entries: { name: string; data: Buffer }[]) {
  const out = fs.createWriteStream(file);
  const tar = new TarWriter(out);
  const results = [];
  for (const e of entries)
    results.push(
      await tar.add(
        { name: e.name, size: e.data.length, mtime: 1_700_000_000 },
        Readable.from([e.data.subarray(0, 10), e.data.subarray(10)]),
      ),
    );
  await tar.finish();
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return results;
}

async function readArchive(file: string) {
  const fh = await fs.promises.open(file, "r");
  try {
    const out: { name: string; data: Buffer; mtime: number }[] = [];
    for await (const e of readTarEntries(fh)) {
      const parts: Buffer[] = [];
      for await (const c of readTarEntryData(fh, e, 1000)) parts.push(c);
      out.push({ name: e.name, data: Buffer.concat(parts), mtime: e.mtime });
    }
    return out;
  } finally {
    await fh.close();
  }
}

describe("tar", () => {
  const entries = [
    { name: "backup.json", data: Buffer.from('{"a":1}') },
    { name: "empty.bin", data: Buffer.alloc(0) },
    { name: "exactly-one-block.bin", data: randomBytes(512) },
    { name: `objects/org/${"long_model_name_".repeat(10)}_v1.0.0-rc.1.safetensors`, data: randomBytes(70_000) },
    { name: "objects/ünïcode/name.bin", data: randomBytes(3) },
  ];

  it("round-trips entries (long and non-ASCII names via pax) and reports each entry's SHA-256", async () => {
    const file = path.join(dir, "a.tar");
    const results = await writeArchive(file, entries);
    expect(results.map((r) => r.sha256)).toEqual(entries.map((e) => sha(e.data)));
    const back = await readArchive(file);
    expect(back.map((e) => e.name)).toEqual(entries.map((e) => e.name));
    back.forEach((e, i) => expect(e.data.equals(entries[i]!.data)).toBe(true));
    expect(back[0]!.mtime).toBe(1_700_000_000);
    expect(fs.statSync(file).size % 512).toBe(0);
  });

  it("is readable by the system tar", async () => {
    const which = spawnSync("tar", ["--version"]);
    if (which.status !== 0) return console.warn("[tar.test] no system tar: skipped the interoperability check");
    const file = path.join(dir, "b.tar");
    await writeArchive(file, entries);
    const listed = spawnSync("tar", ["-tf", file], { encoding: "utf8" });
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout.trim().split("\n")).toEqual(entries.map((e) => e.name));
    const out = path.join(dir, "x");
    fs.mkdirSync(out);
    expect(spawnSync("tar", ["-xf", file, "-C", out]).status).toBe(0);
    expect(fs.readFileSync(path.join(out, entries[3]!.name)).equals(entries[3]!.data)).toBe(true);
  });

  it("fails an entry whose source does not match its announced size", async () => {
    const tar = new TarWriter(fs.createWriteStream(path.join(dir, "c.tar")));
    await expect(tar.add({ name: "short", size: 10 }, Buffer.alloc(5))).rejects.toThrow(/ended after 5 of 10/);
    await expect(tar.add({ name: "long", size: 1 }, Buffer.alloc(5))).rejects.toThrow(/more than the 1 bytes/);
  });

  it("names a corrupted header and a truncated entry", async () => {
    const file = path.join(dir, "d.tar");
    await writeArchive(file, entries);
    const bytes = fs.readFileSync(file);
    const damaged = Buffer.from(bytes);
    damaged[520] = damaged[520]! ^ 0xff; // inside the first entry's data: not a header
    damaged[1024 + 10] = damaged[1024 + 10]! ^ 0xff; // the second header's name
    fs.writeFileSync(file, damaged);
    await expect(readArchive(file)).rejects.toThrow(TarFormatError);
    fs.writeFileSync(file, bytes.subarray(0, 4000));
    await expect(readArchive(file)).rejects.toThrow(/truncated/);
  });

  it("uses a pax size record beyond 8 GiB (sparse file)", async () => {
    const size = 9 * 1024 ** 3;
    const header = encodeHeader({ name: "big.bin", size, mtime: 1 });
    const file = path.join(dir, "big.tar");
    fs.writeFileSync(file, header);
    fs.truncateSync(file, header.length + size);
    const fh = await fs.promises.open(file, "r");
    const got = [];
    for await (const e of readTarEntries(fh)) got.push({ name: e.name, size: e.size });
    await fh.close();
    expect(got).toEqual([{ name: "big.bin", size }]);
  });
});
