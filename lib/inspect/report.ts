import type { Finding, Framework, GlobalRef, ModelFormat, ScanVerdict } from "./types";

const MAX_FINDINGS = 200;
const MAX_GLOBALS = 2000;
const RANK: Record<GlobalRef["verdict"], number> = { safe: 0, suspicious: 1, dangerous: 2 };

/** Mutable accumulator every format scanner writes into; turned into an InspectionResult at the end. */
export class Report {
  format: ModelFormat = "unknown";
  framework: Framework = "none";
  contentType = "application/octet-stream";
  readonly findings: Finding[] = [];
  readonly globals = new Map<string, GlobalRef["verdict"]>();
  metadata: Record<string, unknown> = {};
  private readonly seen = new Set<string>();
  private droppedFindings = 0;
  private droppedGlobals = 0;
  private suspicious = false;
  private invalid = false;
  private dangerous = false;

  add(severity: Finding["severity"], code: string, message: string, location?: string): void {
    const key = `${severity}|${code}|${location ?? ""}|${message}`;
    if (this.seen.has(key)) return;
    if (this.findings.length >= MAX_FINDINGS) {
      this.droppedFindings++;
      return;
    }
    this.seen.add(key);
    this.findings.push(location === undefined ? { severity, code, message } : { severity, code, message, location });
  }

  info(code: string, message: string, location?: string): void {
    this.add("info", code, message, location);
  }

  /** A red flag: verdict becomes at least suspicious. */
  flag(code: string, message: string, location?: string): void {
    this.suspicious = true;
    this.add("warning", code, message, location);
  }

  /** The file is unusable (empty, truncated, corrupt, not a model): verdict invalid unless something is dangerous. */
  fail(code: string, message: string, location?: string): void {
    this.invalid = true;
    this.add("error", code, message, location);
  }

  danger(code: string, message: string, location?: string): void {
    this.dangerous = true;
    this.add("danger", code, message, location);
  }

  addGlobal(name: string, verdict: GlobalRef["verdict"]): void {
    const prev = this.globals.get(name);
    if (prev !== undefined) {
      if (RANK[verdict] > RANK[prev]) this.globals.set(name, verdict);
    } else if (this.globals.size < MAX_GLOBALS) {
      this.globals.set(name, verdict);
    } else {
      this.droppedGlobals++;
    }
    if (verdict === "dangerous") this.dangerous = true;
    else if (verdict === "suspicious") this.suspicious = true;
  }

  get isInvalid(): boolean {
    return this.invalid;
  }

  get isDangerous(): boolean {
    return this.dangerous;
  }

  /**
   * Merges what was found inside a member (of an archive, a compressed stream, a nested file) into
   * this report, locations prefixed with the member's name. `invalid` says what a member that could
   * not be read means for the container: the container is unusable (`fail`), odd (`flag`), or
   * nothing (`info`, for members no loader reads).
   */
  absorb(child: Report, location: string, invalid: "fail" | "flag" | "info"): void {
    for (const [name, verdict] of child.globals) this.addGlobal(name, verdict);
    for (const f of child.findings) {
      const where = !location ? f.location : f.location ? `${location}:${f.location}` : location;
      if (f.severity !== "error") this.add(f.severity, f.code, f.message, where);
      else if (invalid === "fail") this.fail(f.code, f.message, where);
      else if (invalid === "flag") this.flag(f.code, f.message, where);
      else this.info(f.code, f.message, where);
    }
    if (child.dangerous) this.dangerous = true;
    if (child.suspicious) this.suspicious = true;
    if (child.invalid && invalid === "fail") this.invalid = true;
    if (child.invalid && invalid === "flag") this.suspicious = true;
    this.droppedFindings += child.droppedFindings;
    this.droppedGlobals += child.droppedGlobals;
  }

  verdict(): ScanVerdict {
    if (this.dangerous) return "dangerous";
    if (this.invalid) return "invalid";
    if (this.suspicious) return "suspicious";
    return "safe";
  }

  finalizeNotes(): void {
    if (this.droppedFindings > 0) this.info("findings-capped", `${this.droppedFindings} further findings were not listed`);
    if (this.droppedGlobals > 0) this.flag("globals-capped", `${this.droppedGlobals} further distinct globals were not listed`);
  }
}

/** Caps strings, arrays, object sizes and depth so metadata stays small and JSON-serialisable. */
export function boundJson(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "string":
      return value.length > 1024 ? `${value.slice(0, 1024)}…[${value.length} chars]` : value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "bigint":
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case "boolean":
      return value;
    case "object":
      break;
    default:
      return String(value);
  }
  if (depth >= 8) return "[…]";
  if (value instanceof Uint8Array) return { bytes: value.length };
  if (Array.isArray(value)) {
    const out = value.slice(0, 256).map((v) => boundJson(v, depth + 1));
    if (value.length > 256) out.push(`…[${value.length - 256} more]`);
    return out;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (n++ >= 200) {
      out["…"] = "more keys omitted";
      break;
    }
    if (v === undefined) continue;
    setOwn(out, k.length > 256 ? k.slice(0, 256) : k, boundJson(v, depth + 1));
  }
  return out;
}

/** Assigns a property even when the key is "__proto__" (plain assignment would change the prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
