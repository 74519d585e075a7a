import { applyPickleSummary, createReportingWalker, nameTensors, pickleMetadata, tensorMetadata } from "./pickle";
import type { PickleWalker } from "../pickle/walker";
import type { FormatHandler, HandlerContext } from "../handler";
import { isPickleMember, readMemberAt, ZipScanner, type MemberSink } from "./zip-reader";

const SMALL_TEXT_MEMBERS = new Set(["version", "byteorder", "serialization_id"]);
const MAX_RANGE_SCANS = 16;

/** PyTorch zip checkpoints (torch.save since 1.6, TorchScript archives) and any other zip holding pickles. */
export function createZipHandler(ctx: HandlerContext): FormatHandler {
  const { report } = ctx;
  const walkers: Array<{ name: string; walker: PickleWalker }> = [];
  const texts = new Map<string, string>();

  const pickleSink = (name: string): MemberSink => {
    const walker = createReportingWalker(report, name);
    walkers.push({ name, walker });
    return { write: (b) => walker.write(b), end: () => walker.end() };
  };

  const scanner = new ZipScanner(
    {
      openMember(name) {
        if (isPickleMember(name)) return pickleSink(name);
        const base = name.slice(name.lastIndexOf("/") + 1);
        if (SMALL_TEXT_MEMBERS.has(base)) {
          let text = "";
          return {
            write: (b) => {
              if (text.length < 64) text += new TextDecoder().decode(b.subarray(0, 64));
            },
            end: () => texts.set(name, text.slice(0, 64).trim()),
          };
        }
        return null;
      },
      finding(kind, code, message, location) {
        if (kind === "flag") report.flag(code, message, location);
        else if (kind === "fail") report.fail(code, message, location);
        else report.info(code, message, location);
      },
    },
    ctx.size,
  );

  return {
    write: (c) => scanner.write(c),
    end: () => scanner.end(),
    async finish() {
      const unmatched = scanner.crossCheck();
      let viaRange = 0;
      for (const entry of unmatched) {
        if (!isPickleMember(entry.name)) continue;
        // bounded: a crafted directory could point thousands of entries into one big member
        if (ctx.readRange && ctx.size !== undefined && viaRange++ < MAX_RANGE_SCANS) {
          const problem = await readMemberAt(ctx.readRange, entry, pickleSink(`${entry.name}@${entry.offset}`), ctx.size);
          if (problem) report.flag("zip-member-unscanned", `central-directory member could not be scanned: ${problem}`, entry.name);
        } else {
          report.flag("zip-member-unscanned", "pickle member listed in the central directory was not in the stream; it needs random access to scan", entry.name);
        }
      }
      const names = [...scanner.members.map((m) => m.name), ...scanner.central.map((e) => e.name)];
      const dataPkl = walkers.find((w) => /(^|\/)data\.pkl$/.test(w.name));
      for (const { name, walker } of walkers) {
        walker.end();
        applyPickleSummary(report, walker.summary(), name);
      }
      const isTorch = names.some((n) => /(^|\/)data\.pkl$/.test(n));
      const torchScript = names.some((n) => /(^|\/)code\/.+\.py$/.test(n) || /(^|\/)constants\.pkl$/.test(n));
      const meta: Record<string, unknown> = { members: scanner.members.length };
      if (scanner.totalInflated) meta.inflatedBytes = scanner.totalInflated;
      for (const [name, text] of texts) {
        const base = name.slice(name.lastIndexOf("/") + 1);
        if (base === "version" && !name.includes(".data/")) meta.serializationVersion = text;
        if (base === "byteorder") meta.byteOrder = text;
      }
      if (dataPkl) {
        const s = dataPkl.walker.summary();
        if (s.tensorCount > 0) nameTensors(dataPkl.walker.topLevel);
        meta.archiveName = dataPkl.name.includes("/") ? dataPkl.name.slice(0, dataPkl.name.lastIndexOf("/")) : "";
        Object.assign(meta, pickleMetadata(s), tensorMetadata(s));
      }
      if (isTorch) {
        report.format = "pytorch-zip";
        report.framework = "pytorch";
        if (torchScript) report.flag("torchscript-code", "TorchScript archive: it carries code that torch.jit.load compiles and runs");
      } else {
        report.format = "unknown";
        report.framework = "none";
        report.fail("zip-not-a-model", "zip archive without a PyTorch data.pkl");
      }
      report.metadata = meta;
    },
  };
}
