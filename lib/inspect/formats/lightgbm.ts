import { checkSecrets, type FormatHandler, type HandlerContext } from "../handler";

/**
 * LightGBM text model (GBDT::SaveModelToString): a key=value header, "Tree=N" blocks, "end of
 * trees", feature importances and a "parameters:" block. Read line by line with a capped line buffer.
 */

const LINE_CAP = 1024 * 1024;

/** Splits a byte stream into lines, keeping at most LINE_CAP bytes of each. */
export class LineSplitter {
  private buf = new Uint8Array(4096);
  private len = 0;
  private total = 0;
  private readonly decoder = new TextDecoder("utf-8");
  binary = false;

  constructor(private readonly onLine: (line: string, fullLength: number) => void) {}

  write(chunk: Uint8Array): void {
    let p = 0;
    while (p < chunk.length) {
      const nl = chunk.indexOf(10, p);
      const end = nl < 0 ? chunk.length : nl;
      this.append(chunk, p, end);
      if (nl < 0) return;
      this.emit();
      p = nl + 1;
    }
  }

  end(): void {
    if (this.total > 0) this.emit();
  }

  private append(src: Uint8Array, from: number, to: number): void {
    if (src.subarray(from, to).includes(0)) this.binary = true;
    this.total += to - from;
    const take = Math.min(to - from, LINE_CAP - this.len);
    if (take <= 0) return;
    if (this.len + take > this.buf.length) {
      const grown = new Uint8Array(Math.min(LINE_CAP, Math.max(this.buf.length * 2, this.len + take)));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(src.subarray(from, from + take), this.len);
    this.len += take;
  }

  private emit(): void {
    let text = this.decoder.decode(this.buf.subarray(0, this.len));
    if (text.endsWith("\r")) text = text.slice(0, -1);
    this.onLine(text, this.total);
    this.len = 0;
    this.total = 0;
  }
}

export function createLightgbmHandler(ctx: HandlerContext): FormatHandler {
  const { report } = ctx;
  const header: Record<string, string> = {};
  const params: Record<string, string> = {};
  let section: "header" | "trees" | "importances" | "parameters" | "tail" = "header";
  let trees = 0;
  let endOfTrees = false;
  let featureNameCount = 0;
  let lineNo = 0;
  const splitter = new LineSplitter((line, full) => {
    lineNo++;
    if (lineNo === 1) {
      if (line !== "tree") report.fail("lightgbm-header", "first line is not 'tree'");
      return;
    }
    if (line.startsWith("Tree=")) {
      section = "trees";
      trees++;
      return;
    }
    if (line === "end of trees") {
      endOfTrees = true;
      section = "importances";
      return;
    }
    if (line === "parameters:") {
      section = "parameters";
      return;
    }
    if (line === "end of parameters") {
      section = "tail";
      return;
    }
    if (section === "header") {
      const eq = line.indexOf("=");
      if (eq > 0) {
        const k = line.slice(0, eq);
        const v = line.slice(eq + 1);
        if (k === "feature_names") featureNameCount = full > line.length ? -1 : v.split(" ").filter(Boolean).length;
        if (Object.keys(header).length < 64) header[k] = v;
      }
    } else if (section === "parameters") {
      const m = /^\[([^:\]]+):\s?(.*)\]$/.exec(line);
      if (m) {
        checkSecrets(report, m[1]!, m[2]!, `parameters.${m[1]}`);
        if (Object.keys(params).length < 128) params[m[1]!] = m[2]!.length > 256 ? `${m[2]!.slice(0, 256)}…` : m[2]!;
      }
    }
  });

  return {
    write: (c) => splitter.write(c),
    end: () => splitter.end(),
    finish: () => {
      if (splitter.binary) report.fail("lightgbm-binary", "text model contains NUL bytes");
      if (!header.version) report.fail("lightgbm-header", "no version= line in the model header");
      if (!endOfTrees) report.fail("lightgbm-truncated", "model text ends before 'end of trees'");
      const sizes = header.tree_sizes?.split(" ").filter(Boolean) ?? [];
      if (sizes.length && sizes.length !== trees)
        report.fail("lightgbm-tree-count", `tree_sizes lists ${sizes.length} trees but ${trees} Tree= blocks follow`);
      const names = (header.feature_names ?? "").split(" ").filter(Boolean);
      const maxIdx = Number(header.max_feature_idx);
      report.format = header.version ? "lightgbm-text" : "unknown";
      report.framework = header.version ? "lightgbm" : "none";
      report.metadata = {
        version: header.version ?? null,
        objective: header.objective ?? params.objective ?? null,
        numClass: header.num_class !== undefined ? Number(header.num_class) : null,
        numTrees: trees,
        numFeatures: Number.isFinite(maxIdx) ? maxIdx + 1 : featureNameCount,
        featureNames: names.slice(0, 1000),
        parameters: params,
      };
    },
  };
}
