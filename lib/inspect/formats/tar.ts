import { Feeder, ParseError, pipeBytes, readBytes, readU32, readU64, scanBytes, skipBytes, skipToEnd, type ParserGen } from "../feeder";
import { ascii, feederHandler, type FormatHandler, type HandlerContext, type NestedContent } from "../handler";
import { PyGlobal, PyTuple } from "../pickle/values";
import { storageElementSize, type PickleWalker } from "../pickle/walker";
import { applyPickleSummary, createReportingWalker } from "./pickle";
import { judgePlainArchive } from "./archive";

/**
 * tar archives, above all the oldest PyTorch layout that torch.load still tries first: members
 * `sys_info` and `pickle` (one pickle each) and `storages` / `tensors` (pickles interleaved with raw
 * data). Every member is inspected from its bytes; the two interleaved members are parsed the way
 * torch's legacy_load reads them so every pickle in them is walked. Python's tarfile reads the last
 * member of a given name, honours pax `path`/`size` records and follows links: duplicate names and
 * links under the names torch extracts are dangerous.
 */

const BLOCK = 512;
const TORCH_MEMBERS = new Set(["sys_info", "pickle", "tensors", "storages"]);
const MAX_MEMBERS = 100_000;
const MAX_PICKLES = 1_000_000;

interface TarMember {
  name: string;
  type: string;
  size: number;
  link: string;
}

function octal(b: Uint8Array, from: number, to: number): number {
  if (b[from]! & 0x80) {
    // GNU base-256: big-endian binary after the marker bit
    let v = b[from]! & 0x7f;
    for (let i = from + 1; i < to; i++) v = v * 256 + b[i]!;
    return v;
  }
  const text = ascii(b, from, to).replace(/\0.*$/s, "").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new ParseError(`bad tar number "${text.slice(0, 20)}"`, "corrupt");
  return parseInt(text, 8);
}

function cstring(b: Uint8Array, from: number, to: number): string {
  const end = b.subarray(from, to).indexOf(0);
  return new TextDecoder().decode(b.subarray(from, end < 0 ? to : from + end));
}

/** pax extended header records ("len key=value\n"): the keys tarfile applies to the next member. */
function paxRecords(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let p = 0;
  while (p < text.length) {
    const sp = text.indexOf(" ", p);
    if (sp < 0) break;
    const len = Number(text.slice(p, sp));
    if (!Number.isInteger(len) || len <= 0) break;
    const rec = text.slice(sp + 1, p + len - 1);
    const eq = rec.indexOf("=");
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    p += len;
  }
  return out;
}

/** Parses torch's `storages` / `tensors` members: pickles with raw storage bytes or tensor geometry between them. */
class LegacyTorchMember {
  private readonly feeder: Feeder;
  pickles = 0;

  constructor(
    private readonly ctx: HandlerContext,
    private readonly name: "storages" | "tensors",
  ) {
    this.feeder = new Feeder(() => this.parse());
  }

  write(b: Uint8Array): void {
    this.feeder.write(b);
  }

  end(): void {
    this.feeder.end();
    const err = this.feeder.error;
    if (err)
      this.ctx.report.fail("tar-torch-member", `${this.name} cannot be read as torch writes it: ${(err as Error).message}`, this.name);
  }

  private *pickle(): ParserGen<PickleWalker> {
    if (++this.pickles > MAX_PICKLES) throw new ParseError("too many pickles", "limit");
    const { walker } = createReportingWalker(this.ctx, this.name);
    walker.single = true;
    yield* scanBytes((b, eof) => {
      const used = walker.write(b);
      return walker.done || walker.halt !== null || eof ? ~used : used;
    });
    walker.end();
    const s = walker.summary();
    applyPickleSummary(this.ctx.report, s, this.name);
    if (!s.complete) throw new ParseError(`pickle ${this.pickles} is incomplete`, "corrupt");
    return walker;
  }

  private *parse(): ParserGen {
    const head = yield* this.pickle();
    const count = typeof head.topLevel === "number" ? head.topLevel : -1;
    if (count < 0 || count > MAX_PICKLES) throw new ParseError(`${this.name} does not start with a count`, "corrupt");
    for (let i = 0; i < count; i++) {
      const w = yield* this.pickle();
      if (this.name === "storages") {
        const args = w.topLevel;
        const type = args instanceof PyTuple ? args.items[2] : undefined;
        const size = type instanceof PyGlobal ? storageElementSize(type.name) : undefined;
        if (size === undefined) throw new ParseError("storage record without a known storage type", "unsupported");
        yield* skipBytes((yield* readU64()) * size);
      } else {
        const ndim = yield* readU32();
        if (ndim > 64) throw new ParseError(`tensor record with ${ndim} dimensions`, "corrupt");
        yield* skipBytes(4 + 16 * ndim + 8);
      }
    }
    if (this.name === "storages") yield* this.pickle();
    yield* skipToEnd();
  }
}

export function createTarHandler(ctx: HandlerContext): FormatHandler {
  const { report } = ctx;
  const members: TarMember[] = [];
  const scans: Array<{ name: string; content: NestedContent }> = [];
  let pax = new Map<string, string>();
  let longName: string | null = null;

  function* data(m: TarMember): ParserGen {
    const padded = Math.ceil(m.size / BLOCK) * BLOCK;
    if (m.type !== "0" && m.type !== "\0" && m.type !== "7") {
      yield* skipBytes(padded);
      return;
    }
    let sink: { write(b: Uint8Array): void; end(): void };
    if (m.name === "storages" || m.name === "tensors") {
      sink = new LegacyTorchMember(ctx, m.name);
    } else {
      const content = ctx.nested(m.name, { size: m.size });
      scans.push({ name: m.name, content });
      sink = { write: (b) => content.write(b), end: () => void content.end() };
    }
    yield* pipeBytes(m.size, (b) => sink.write(b));
    sink.end();
    yield* skipBytes(padded - m.size);
  }

  function* parse(): ParserGen {
    for (;;) {
      const h = (yield* readBytes(BLOCK)).slice();
      if (h.every((v) => v === 0)) {
        yield* skipToEnd();
        return;
      }
      const type = String.fromCharCode(h[156]!);
      let size = octal(h, 124, 136);
      const prefix = ascii(h, 257, 263).startsWith("ustar") ? cstring(h, 345, 500) : "";
      let name = longName ?? pax.get("path") ?? (prefix ? `${prefix}/${cstring(h, 0, 100)}` : cstring(h, 0, 100));
      if (pax.has("size")) size = Number(pax.get("size"));
      const link = pax.get("linkpath") ?? cstring(h, 157, 257);
      longName = null;
      pax = new Map();
      if (!Number.isSafeInteger(size) || size < 0) throw new ParseError("bad tar member size", "corrupt");
      if (type === "x" || type === "L" || type === "K") {
        const body = yield* readBytes(size);
        const text = new TextDecoder().decode(body).replace(/\0+$/, "");
        if (type === "x") pax = paxRecords(text);
        if (type === "L") longName = text;
        yield* skipBytes(Math.ceil(size / BLOCK) * BLOCK - size);
        continue;
      }
      name = name.replace(/^\.\//, "");
      const m: TarMember = { name, type, size, link };
      if (members.length < MAX_MEMBERS) members.push(m);
      yield* data(m);
    }
  }

  return feederHandler(
    ctx,
    "tar",
    () => parse(),
    async () => {
      for (const s of scans) {
        await s.content.end();
        report.absorb(s.content.report, s.name, TORCH_MEMBERS.has(s.name) ? "fail" : s.content.kind() === "pickle" ? "flag" : "info");
      }
      const seen = new Map<string, number>();
      for (const m of members) {
        seen.set(m.name, (seen.get(m.name) ?? 0) + 1);
        if ((m.type === "1" || m.type === "2") && TORCH_MEMBERS.has(m.name)) {
          report.danger(
            "tar-link",
            `member ${m.name} is a link to ${m.link.slice(0, 200)}: torch.load would read that file instead`,
            m.name,
          );
        }
        if (m.name.startsWith("/") || m.name.split("/").includes(".."))
          report.flag("tar-path", "member path leaves the extraction directory", m.name);
      }
      for (const [name, n] of seen)
        if (n > 1) report.danger("tar-duplicate-name", `the archive holds ${n} members named ${name}: tarfile reads the last one`, name);
      const names = members.map((m) => m.name);
      const torch = ["pickle", "storages", "tensors"].every((n) => names.includes(n));
      const main = scans.find((s) => s.name === "pickle");
      report.metadata = {
        members: members.length,
        layout: torch ? "torch-tar" : "tar",
        ...(main ? { topLevelClass: main.content.report.metadata.topLevelClass ?? null } : {}),
      };
      if (torch) {
        report.format = "pytorch-legacy";
        report.framework = "pytorch";
      } else {
        report.format = "unknown";
        report.framework = "none";
        if (!ctx.top) report.fail("tar-not-a-model", "tar archive that is not a legacy PyTorch checkpoint");
        else
          judgePlainArchive(
            report,
            "tar",
            scans.map((s) => ({ name: s.name, kind: s.content.kind() })),
            members.filter((m) => m.type === "0" || m.type === "\0" || m.type === "7").length,
            report.metadata,
          );
      }
    },
  );
}
