import { createZipMemberDecoder } from "../codecs/index";
import { readAt, type FormatHandler, type HandlerContext, type NestedContent } from "../handler";
import type { Report } from "../report";
import type { ReadRange } from "../types";
import { zipDocument } from "../sniff";
import { judgePlainArchive } from "./archive";
import { analyzeKerasConfig } from "./keras-config";
import {
  archiveOffset,
  findEocd,
  FLAG_DESCRIPTOR,
  FLAG_ENCRYPTED,
  localDataStart,
  parseCentral,
  ZipWalker,
  type CentralEntry,
  type Eocd,
  type LocalMember,
} from "./zip-reader";

/**
 * Zip archives: PyTorch checkpoints (torch.save since 1.6, TorchScript), Keras 3 `.keras` files,
 * NumPy `.npz`, TorchServe `.mar`, and any zip a loader might be pointed at. Every member is
 * inspected from its bytes (a pickle under any name, a nested archive, an .npy, an HDF5 file …),
 * then the archive is read again the way the loaders read it (last EOCD record, central directory)
 * and the two views are reconciled: a member the loaders would read that the stream did not show,
 * or a header that disagrees with the directory, is dangerous.
 */

const TAIL_BYTES = 128 * 1024;
const MAX_MEMBER_SCANS = 20_000;
const MAX_RANGE_SCANS = 64;
const MAX_CONFIG_BYTES = 32 * 1024 * 1024;
const TEXT_MEMBERS = new Set(["version", "byteorder", "serialization_id", "mimetype"]);
const RANGE_STEP = 1024 * 1024;

interface MemberScan {
  name: string;
  offset: number;
  content: NestedContent;
  done: Promise<void>;
  /** Dropped once the member turned out to be plain data (keeps memory flat for archives of many tensors). */
  report: Report | null;
  kind: string | null;
}

/** The last bytes of the stream, in a ring (the EOCD record and often the directory live there). */
export class TailRing {
  private readonly buf = new Uint8Array(TAIL_BYTES);
  private written = 0;

  write(c: Uint8Array): void {
    const src = c.length > TAIL_BYTES ? c.subarray(c.length - TAIL_BYTES) : c;
    let pos = (this.written + (c.length - src.length)) % TAIL_BYTES;
    let off = 0;
    while (off < src.length) {
      const n = Math.min(src.length - off, TAIL_BYTES - pos);
      this.buf.set(src.subarray(off, off + n), pos);
      off += n;
      pos = (pos + n) % TAIL_BYTES;
    }
    this.written += c.length;
  }

  /** The kept bytes in order, and the file offset of the first one. */
  bytes(): { tail: Uint8Array; start: number } {
    const n = Math.min(this.written, TAIL_BYTES);
    const out = new Uint8Array(n);
    const start = this.written - n;
    const first = start % TAIL_BYTES;
    const a = Math.min(n, TAIL_BYTES - first);
    out.set(this.buf.subarray(first, first + a));
    out.set(this.buf.subarray(0, n - a), a);
    return { tail: out, start };
  }
}

function baseName(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

function isPlainData(r: Report): boolean {
  return (
    r.globals.size === 0 &&
    !r.isDangerous &&
    r.verdict() !== "suspicious" &&
    r.findings.every((f) => f.code === "not-a-model" || f.code === "empty-file" || f.severity === "info")
  );
}

/**
 * A zip handler. `speculative`: content that only might be a zip (data before it) is reported as one
 * only when an EOCD record is found. `appended`: the file was read as another format and its tail
 * (given) holds a zip directory; members are read by random access only.
 */
export function createZipHandler(
  ctx: HandlerContext,
  mode: "stream" | "speculative" | "appended" = "stream",
  appendedTail?: { tail: Uint8Array; start: number },
): FormatHandler & { eocdFound: boolean } {
  const { report } = ctx;
  const scans: MemberScan[] = [];
  const texts = new Map<string, string>();
  const configs = new Map<string, { parts: Uint8Array[]; size: number }>();
  const ring = new TailRing();
  let skippedScans = 0;

  const memberRange = (dataOffset: number, size: number): ReadRange | undefined =>
    ctx.readRange ? (s, e) => readAt(ctx, dataOffset + s, dataOffset + Math.min(e, size)) as Promise<Uint8Array> : undefined;

  const startScan = (name: string, offset: number, size: number | undefined, range: ReadRange | undefined): NestedContent | null => {
    if (scans.length >= MAX_MEMBER_SCANS) {
      skippedScans++;
      return null;
    }
    const content = ctx.nested(name, { size, readRange: range });
    scans.push({ name, offset, content, done: Promise.resolve(), report: content.report, kind: null });
    return content;
  };

  const teeText = (name: string): ((b: Uint8Array) => void) | null => {
    const base = baseName(name);
    if (TEXT_MEMBERS.has(base)) {
      let text = "";
      return (b) => {
        if (text.length < 64) texts.set(name, (text += new TextDecoder().decode(b.subarray(0, 64))).slice(0, 64).trim());
      };
    }
    if (name === "config.json" || name === "metadata.json" || name === "MAR-INF/MANIFEST.json" || name.endsWith(".py")) {
      const acc = { parts: [] as Uint8Array[], size: 0 };
      configs.set(name, acc);
      return (b) => {
        if (acc.size + b.length <= MAX_CONFIG_BYTES) acc.parts.push(b.slice());
        acc.size += b.length;
      };
    }
    return null;
  };

  const walker = new ZipWalker({
    openMember(m: LocalMember) {
      if (m.name.endsWith("/") && m.csize === 0) return null;
      const stored = m.method === 0 && !(m.flags & FLAG_DESCRIPTOR);
      const content = startScan(m.name, m.offset, stored ? m.usize : undefined, stored ? memberRange(m.dataOffset, m.usize) : undefined);
      const tee = teeText(m.name);
      if (!content && !tee) return null;
      const scan = content ? scans[scans.length - 1]! : null;
      return {
        write: (b) => {
          content?.write(b);
          tee?.(b);
        },
        end: () => {
          if (scan) scan.done = settle(scan);
        },
      };
    },
  });

  return {
    eocdFound: false,
    write: (c) => {
      ring.write(c);
      walker.write(c);
    },
    end: () => walker.end(),
    async finish() {
      const size = ctx.size ?? ctx.total();
      const { tail, start } = appendedTail ?? ring.bytes();
      const eocd = findEocd(tail, start, size);
      this.eocdFound = eocd !== null;
      if (mode !== "stream" && !eocd) return;
      const entries = eocd ? await readDirectory(ctx, eocd, tail, start, walker) : null;
      if (entries) await reconcile(ctx, eocd!, entries, walker, scans, startScan, memberRange, mode === "appended");
      else if (!eocd) report.fail("zip-no-eocd", "zip has no end-of-central-directory record in its last 64 KiB (truncated?)");
      for (const s of scans) await s.done.then(() => settle(s));
      if (skippedScans > 0)
        report.flag("zip-too-many-members", `${skippedScans} members beyond the first ${MAX_MEMBER_SCANS} were not inspected`);
      if (walker.stoppedAt !== null && (!entries || walker.stoppedAt < size)) {
        report.info("zip-stream-stopped", `the front-to-back walk stopped at offset ${walker.stoppedAt}: ${walker.stopReason}`);
      }
      for (const [from, to] of walker.gaps) report.flag("zip-gap", `bytes ${from}..${to} belong to no zip record`);
      for (const m of walker.members) {
        if (m.bomb) report.flag("zip-bomb", m.problem ?? "decompression stopped", m.name);
        else if (m.problem) report.flag("zip-member-unreadable", `member data could not be decoded: ${m.problem}`, m.name);
      }
      describe(ctx, entries?.map((e) => e.name) ?? walker.members.map((m) => m.name), scans, texts, configs, walker, eocd);
    },
  };
}

async function settle(s: MemberScan): Promise<void> {
  await s.content.end();
  s.kind = s.content.kind();
  if (s.report && isPlainData(s.report)) s.report = null;
}

/** Reads the central directory the last EOCD points to: random access, the kept tail, or the records the stream walk passed. */
async function readDirectory(
  ctx: HandlerContext,
  eocd: Eocd,
  tail: Uint8Array,
  tailStart: number,
  walker: ZipWalker,
): Promise<CentralEntry[] | null> {
  const { report } = ctx;
  const base = archiveOffset(eocd);
  const cdStart = eocd.cdOffset + base;
  const cdEnd = cdStart + eocd.cdSize;
  if (cdStart < 0 || cdEnd > eocd.offset) {
    report.fail("zip-bad-directory", "the end-of-central-directory record points outside the file");
    return null;
  }
  let cd: Uint8Array | null = null;
  if (cdStart >= tailStart) cd = tail.subarray(cdStart - tailStart, cdEnd - tailStart);
  else if (eocd.cdSize <= 256 * 1024 * 1024) cd = await readAt(ctx, cdStart, cdEnd);
  if (cd && cd.length === eocd.cdSize) {
    const { entries, error } = parseCentral(cd, cdStart);
    if (error) report.fail("zip-bad-directory", `central directory cannot be read: ${error}`);
    return entries;
  }
  // no random access: use the records the stream walk passed, if they are exactly the directory
  const entries: CentralEntry[] = [];
  for (let at = cdStart; at < cdEnd;) {
    const e = walker.central.get(at);
    if (!e) {
      report.danger(
        "zip-directory-unread",
        "the central directory the loaders use could not be read (no random access), so its members cannot be checked",
      );
      return null;
    }
    entries.push(e);
    at = e.end;
  }
  return entries;
}

type StartScan = (name: string, offset: number, size: number | undefined, range: ReadRange | undefined) => NestedContent | null;

/** Compares the loaders' view (directory) with the stream's (local headers); scans members only the loaders see. */
async function reconcile(
  ctx: HandlerContext,
  eocd: Eocd,
  entries: CentralEntry[],
  walker: ZipWalker,
  scans: MemberScan[],
  startScan: StartScan,
  memberRange: (dataOffset: number, size: number) => ReadRange | undefined,
  appended = false,
): Promise<void> {
  const { report } = ctx;
  const base = archiveOffset(eocd);
  if (appended)
    report.danger(
      "zip-polyglot",
      `the file is also a zip archive (its directory is in the last bytes): zip-based loaders open what it holds`,
    );
  else if (base !== 0)
    report.danger(
      "zip-prepended-data",
      `${base} bytes precede the archive: Python's zipfile shifts every offset by them, PyTorch's reader does not`,
    );
  if (walker.eocds.length > 1 || (walker.eocds.length === 1 && walker.eocds[0] !== eocd.offset)) {
    report.danger(
      "zip-multiple-eocd",
      "the archive has more than one end-of-central-directory record: the loaders use the last, a front-to-back reader the first",
    );
  }
  const locals = new Map(walker.members.map((m) => [m.offset, m]));
  const listed = new Set<number>();
  const names = new Map<string, number>();
  let rangeScans = 0;
  for (const e of entries) {
    names.set(e.name, (names.get(e.name) ?? 0) + 1);
    const offset = e.offset + base;
    listed.add(offset);
    if (e.name.endsWith("/") && e.csize === 0) continue;
    if (e.flags & FLAG_ENCRYPTED)
      report.flag("zip-encrypted", "member is encrypted: loaders cannot read it without a password, and it was not inspected", e.name);
    const local = locals.get(offset);
    const mismatch = local ? disagreement(local, e) : null;
    if (local && !mismatch) continue;
    if (mismatch)
      report.danger(
        "zip-header-mismatch",
        `local header and central directory disagree (${mismatch}); loaders follow the directory`,
        e.name,
      );
    else if (!appended && (walker.stoppedAt === null || offset < walker.stoppedAt))
      report.danger(
        "zip-hidden-entry",
        `the central directory lists a member at offset ${offset} that the archive's local headers do not show`,
        e.name,
      );
    if (local && !mismatchChangesData(local, e)) continue;
    if (rangeScans++ >= MAX_RANGE_SCANS) {
      report.danger("zip-member-unscanned", "too many members need a second reading; this one was not inspected", e.name);
      continue;
    }
    const problem = await scanFromDirectory(ctx, e, offset, scans, startScan, memberRange);
    if (problem) report.danger("zip-member-unscanned", `member the loaders read could not be inspected: ${problem}`, e.name);
  }
  for (const [name, n] of names) {
    if (n > 1)
      report.danger(
        "zip-duplicate-name",
        `the central directory lists this name ${n} times: loaders disagree on which one they read`,
        name,
      );
  }
  for (const m of walker.members) {
    if (!listed.has(m.offset))
      report.danger(
        "zip-unlisted-member",
        "a local header the central directory does not list: loaders ignore it, front-to-back readers do not",
        m.name,
      );
  }
}

function disagreement(l: LocalMember, e: CentralEntry): string | null {
  const out: string[] = [];
  if (l.name !== e.name) out.push(`name "${l.name.slice(0, 100)}" vs "${e.name.slice(0, 100)}"`);
  if (l.method !== e.method) out.push(`method ${l.method} vs ${e.method}`);
  if ((l.flags & FLAG_ENCRYPTED) !== (e.flags & FLAG_ENCRYPTED)) out.push("encryption flag");
  if (!(l.flags & FLAG_DESCRIPTOR)) {
    if (l.csize !== e.csize) out.push(`compressed size ${l.csize} vs ${e.csize}`);
    if (l.usize !== e.usize) out.push(`size ${l.usize} vs ${e.usize}`);
    if (l.crc !== e.crc) out.push("CRC");
  }
  return out.length ? out.join(", ") : null;
}

/** The stream decoded the member's bytes as the loaders do unless method or size differ. */
function mismatchChangesData(l: LocalMember, e: CentralEntry): boolean {
  return l.method !== e.method || (!(l.flags & FLAG_DESCRIPTOR) && l.csize !== e.csize) || (e.flags & FLAG_ENCRYPTED) !== 0;
}

/** Inspects a member the way the loaders read it: local header at the directory's offset, then csize bytes by the directory's method. */
async function scanFromDirectory(
  ctx: HandlerContext,
  e: CentralEntry,
  offset: number,
  scans: MemberScan[],
  startScan: StartScan,
  memberRange: (dataOffset: number, size: number) => ReadRange | undefined,
): Promise<string | null> {
  const size = ctx.size ?? ctx.total();
  const header = await readAt(ctx, offset, offset + 30);
  if (!header) return "no random access to the file";
  const dataStart = localDataStart(header, offset);
  if (dataStart === null) return "no local header at the central directory's offset";
  if (dataStart + e.csize > size) return "member runs past the end of the file";
  const stored = e.method === 0;
  const content = startScan(
    `${e.name}@${offset}`,
    offset,
    stored ? e.usize : undefined,
    stored ? memberRange(dataStart, e.usize) : undefined,
  );
  if (!content) return "too many members";
  const decoder = createZipMemberDecoder(e.method, e.usize, (b) => content.write(b));
  let problem: string | null = decoder ? null : `compression method ${e.method} is not supported`;
  for (let p = 0; decoder && !problem && p < e.csize; p += RANGE_STEP) {
    const part = await readAt(ctx, dataStart + p, dataStart + Math.min(e.csize, p + RANGE_STEP));
    if (!part) problem = "no random access to the file";
    else {
      try {
        decoder.write(part);
      } catch (err) {
        problem = (err as Error).message;
      }
    }
  }
  if (decoder && !problem) {
    try {
      decoder.end();
    } catch (err) {
      problem = (err as Error).message;
    }
  }
  const scan = scans[scans.length - 1]!;
  scan.done = settle(scan);
  await scan.done;
  return problem;
}

/** What the archive is, from its member names and what the members turned out to be. */
function describe(
  ctx: HandlerContext,
  names: string[],
  scans: MemberScan[],
  texts: Map<string, string>,
  configs: Map<string, { parts: Uint8Array[]; size: number }>,
  walker: ZipWalker,
  eocd: Eocd | null,
): void {
  const { report } = ctx;
  const torchPkl = scans.find((s) => /(^|\/)data\.pkl$/.test(s.name));
  const isTorch = names.some((n) => /(^|\/)data\.pkl$/.test(n));
  const isMar = names.includes("MAR-INF/MANIFEST.json");
  const isKeras = names.includes("config.json") && (names.includes("model.weights.h5") || names.includes("metadata.json"));
  const npy = names.filter((n) => !n.endsWith("/"));
  const isNpz = npy.length > 0 && npy.every((n) => n.endsWith(".npy"));
  // members whose failure makes the archive unusable (config.json of a .keras is judged by describeKeras, not as JSON of its own)
  const loaderReads = (s: MemberScan): boolean => (isTorch && s === torchPkl) || (isNpz && s.name.endsWith(".npy"));
  for (const s of scans) {
    if (!s.report) continue;
    const policy = loaderReads(s) ? "fail" : s.kind === "pickle" ? "flag" : "info";
    report.absorb(s.report, s.name, policy);
  }
  const meta: Record<string, unknown> = { members: names.length };
  if (walker.totalInflated) meta.inflatedBytes = walker.totalInflated;
  if (eocd) meta.centralDirectoryEntries = eocd.entries;
  for (const [name, text] of texts) {
    const base = baseName(name);
    if (base === "version" && !name.includes(".data/")) meta.serializationVersion = text;
    if (base === "byteorder") meta.byteOrder = text;
  }
  const doc = ctx.top ? documentOf(names, texts) : null;
  if (doc) {
    report.format = "unknown";
    report.fail("not-a-model", `This is ${doc}, not a model file.`);
  } else if (isTorch) {
    report.format = "pytorch-zip";
    report.framework = "pytorch";
    if (torchPkl?.report)
      Object.assign(meta, torchPkl.report.metadata, {
        archiveName: torchPkl.name.includes("/") ? torchPkl.name.slice(0, torchPkl.name.lastIndexOf("/")) : "",
      });
    if (names.some((n) => /(^|\/)code\/.+\.py$/.test(n) || /(^|\/)constants\.pkl$/.test(n))) {
      report.flag("torchscript-code", "TorchScript archive: it carries code that torch.jit.load compiles and runs");
    }
  } else if (isMar) {
    report.format = "pytorch-zip";
    report.framework = "pytorch";
    Object.assign(meta, describeMar(report, configs.get("MAR-INF/MANIFEST.json"), names));
    checkPythonMembers(report, configs);
  } else if (isKeras) {
    report.format = "hdf5-keras";
    report.framework = "tensorflow-keras";
    Object.assign(meta, describeKeras(report, configs));
  } else if (isNpz) {
    const objects = scans.filter((s) => s.report?.metadata.objectArray === true);
    report.format = objects.length ? "pickle" : "numpy";
    report.framework = objects.length ? "none" : "numpy";
    meta.arrays = npy.length;
    if (objects.length)
      report.info(
        "npz-object-arrays",
        `${objects.length} array(s) hold Python objects: np.load(allow_pickle=True) unpickles them; the pickles were inspected`,
      );
  } else {
    report.format = "unknown";
    report.framework = "none";
    checkPythonMembers(report, configs);
    if (!ctx.top) report.fail("zip-not-a-model", "zip archive that is not a PyTorch, Keras, NumPy or TorchServe file");
    else judgePlainArchive(report, "zip", scans, names.filter((n) => !n.endsWith("/")).length, meta);
  }
  report.metadata = meta;
}

/** Documents that happen to be zips (Office, OpenDocument, EPUB): told apart by the members their writers always add. */
function documentOf(names: string[], texts: Map<string, string>): string | null {
  if (names.includes("[Content_Types].xml")) return zipDocument("[Content_Types].xml", null);
  return names.includes("mimetype") ? zipDocument("mimetype", texts.get("mimetype") ?? null) : null;
}

function joinParts(c: { parts: Uint8Array[]; size: number } | undefined): string | null {
  if (!c || c.size > MAX_CONFIG_BYTES) return null;
  return Buffer.concat(c.parts).toString("utf8");
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describeKeras(report: Report, configs: Map<string, { parts: Uint8Array[]; size: number }>): Record<string, unknown> {
  const config = parseJson(joinParts(configs.get("config.json")));
  const metadata = parseJson(joinParts(configs.get("metadata.json"))) as { keras_version?: string } | null | undefined;
  if (config === undefined || config === null) {
    report.fail("keras-config-unreadable", "config.json of the .keras archive is missing or not valid JSON");
    return { layout: "keras-v3" };
  }
  const arch = analyzeKerasConfig(config, report, "config.json");
  return {
    layout: "keras-v3",
    kerasVersion: metadata?.keras_version ?? null,
    modelClass: arch.modelClass,
    modelName: arch.name,
    layerCount: arch.layerCount,
    layers: arch.layers,
  };
}

/** Calls in Python source that reach the shell, the network or dynamic code (TorchScript's code/ is not Python and is not checked here). */
export const DANGEROUS_PYTHON =
  /\b(os\.(system|popen|exec\w*|spawn\w*|fork)|subprocess\.|pty\.spawn|socket\.socket|ctypes\.|marshal\.loads|pickle\.loads|urllib\.request|requests\.(get|post))|(?<![\w.])(eval|exec|compile|__import__)\s*\(/;

function checkPythonMembers(report: Report, configs: Map<string, { parts: Uint8Array[]; size: number }>): void {
  for (const [name, c] of configs) {
    if (!name.endsWith(".py")) continue;
    const text = joinParts(c);
    const m = text === null ? null : DANGEROUS_PYTHON.exec(text);
    if (m) report.danger("archive-python-code", `Python code in the archive (which its server imports) calls ${m[0].slice(0, 60)}`, name);
  }
}

function describeMar(
  report: Report,
  manifest: { parts: Uint8Array[]; size: number } | undefined,
  names: string[],
): Record<string, unknown> {
  const m = parseJson(joinParts(manifest)) as
    { model?: { handler?: string; serializedFile?: string; modelFile?: string } } | null | undefined;
  const handler = m?.model?.handler;
  const code = names.filter((n) => n.endsWith(".py"));
  if (code.length || (handler && handler.endsWith(".py"))) {
    report.flag(
      "torchserve-handler-code",
      `TorchServe archive with Python code that the server imports and runs (${(handler ?? code[0] ?? "").slice(0, 100)})`,
    );
  }
  return { torchserveHandler: handler ?? null, serializedFile: m?.model?.serializedFile ?? null };
}
