import { describe, expect, it } from "vitest";
import { classifyGlobal } from "./globals";
import { OP } from "./opcodes";
import { walkPickle } from "./walker";
import { bytes, concat, fixture, inspectBytes, inspectStored, sbu, u32, u64 } from "../test-support";

const STOP = OP.STOP;
const REDUCE = OP.REDUCE;
const TUPLE1 = OP.TUPLE1;
const MEMOIZE = OP.MEMOIZE;
const STACK_GLOBAL = OP.STACK_GLOBAL;
const POP = OP.POP;
const BINGET = OP.BINGET;
const LONG_BINGET = OP.LONG_BINGET;
const BINPUT = OP.BINPUT;
const LONG_BINPUT = OP.LONG_BINPUT;

const names = (r: { globals: Array<{ name: string; verdict: string }> }) => Object.fromEntries(r.globals.map((g) => [g.name, g.verdict]));

async function bothPaths(b: Uint8Array, name = "model.pkl") {
  const stored = await inspectStored(b, name);
  const streamed = await inspectBytes(b, name, 1);
  expect({ v: streamed.verdict, f: streamed.format, g: streamed.globals }).toEqual({
    v: stored.verdict,
    f: stored.format,
    g: stored.globals,
  });
  return stored;
}

describe("STACK_GLOBAL resolved through the memo", () => {
  it("protocol 4 MEMOIZE: \\x8c\\x05posix\\x94\\x8c\\x06system\\x94\\x93", async () => {
    const p = bytes(OP.PROTO, 4, sbu("posix"), MEMOIZE, sbu("system"), MEMOIZE, STACK_GLOBAL, sbu("echo pwned"), TUPLE1, REDUCE, STOP);
    const r = await bothPaths(p);
    expect(r.verdict).toBe("dangerous");
    expect(names(r)).toEqual({ "posix.system": "dangerous" });
  });

  it("strings memoized with BINPUT, dropped, and fetched back with BINGET", async () => {
    const p = bytes(
      OP.PROTO,
      4,
      sbu("os"),
      BINPUT,
      7,
      POP,
      sbu("system"),
      BINPUT,
      9,
      POP,
      BINGET,
      7,
      BINGET,
      9,
      STACK_GLOBAL,
      sbu("id"),
      TUPLE1,
      REDUCE,
      STOP,
    );
    const r = await bothPaths(p);
    expect(names(r)).toEqual({ "os.system": "dangerous" });
  });

  it("LONG_BINPUT / LONG_BINGET with indexes above 255", async () => {
    const p = bytes(
      OP.PROTO,
      4,
      sbu("subprocess"),
      LONG_BINPUT,
      u32(70000),
      POP,
      sbu("Popen"),
      LONG_BINPUT,
      u32(1 << 24),
      POP,
      LONG_BINGET,
      u32(70000),
      LONG_BINGET,
      u32(1 << 24),
      STACK_GLOBAL,
      STOP,
    );
    const r = await bothPaths(p);
    expect(names(r)).toEqual({ "subprocess.Popen": "dangerous" });
  });

  it("memo keys that were never stored make the pickle corrupt, not safe", async () => {
    const p = bytes(OP.PROTO, 4, BINGET, 3, BINGET, 4, STACK_GLOBAL, STOP);
    const r = await bothPaths(p);
    expect(r.verdict).toBe("invalid");
  });

  it("still resolves names after the memo cap (hundreds of thousands of entries)", () => {
    const body = new Uint8Array(600_000 * 5);
    for (let i = 0; i < 600_000; i++) body.set([OP.SHORT_BINUNICODE, 1, 0x78, MEMOIZE, POP], i * 5);
    const p = concat(
      bytes(OP.PROTO, 4),
      body,
      bytes(
        sbu("posix"),
        MEMOIZE,
        POP,
        sbu("system"),
        MEMOIZE,
        POP,
        LONG_BINGET,
        u32(600_000),
        LONG_BINGET,
        u32(600_001),
        STACK_GLOBAL,
        STOP,
      ),
    );
    const s = walkPickle(p);
    expect(s.complete).toBe(true);
    expect([...s.globals]).toEqual([["posix.system", "dangerous"]]);
  });
});

describe("text protocols 0/1", () => {
  it("GLOBAL with a Python 2 module name (__builtin__.eval) is dangerous", async () => {
    const r = await bothPaths(bytes("c__builtin__\neval\n(S'1+1'\ntR."));
    expect(names(r)).toEqual({ "__builtin__.eval": "dangerous" });
  });

  it("INST form", async () => {
    const r = await bothPaths(bytes("(S'echo hi'\nios\nsystem\n."));
    expect(r.verdict).toBe("dangerous");
    expect(names(r)).toEqual({ "os.system": "dangerous" });
  });

  it("escaped STRING operands are decoded before STACK_GLOBAL resolves them", async () => {
    const r = await bothPaths(bytes("S'po\\x73ix'\nS'sys\\164em'\n", STACK_GLOBAL, "."));
    expect(names(r)).toEqual({ "posix.system": "dangerous" });
  });

  it("OBJ opcode with a GLOBAL class", async () => {
    const r = await bothPaths(bytes("(cwebbrowser\nopen\nS'http://192.0.2.1'\no."));
    expect(names(r)).toEqual({ "webbrowser.open": "dangerous" });
  });
});

describe("other opcode tricks", () => {
  // Fail closed: an extension code resolves to whatever the loading process registered.
  it("EXT1/EXT2/EXT4 codes the pickle did not register are dangerous", async () => {
    for (const ext of [bytes(OP.EXT1, 1), bytes(OP.EXT2, 0x34, 0x12), bytes(OP.EXT4, u32(99999))]) {
      const r = await bothPaths(bytes(OP.PROTO, 2, ext, OP.EMPTY_TUPLE, REDUCE, STOP));
      expect(r.verdict).toBe("dangerous");
      expect(r.globals[0]!.name).toMatch(/^copyreg\._extension_registry\[\d+\]$/);
    }
  });

  it("NEWOBJ_EX and BUILD on a non-allowlisted class", async () => {
    const r = await bothPaths(
      bytes(
        OP.PROTO,
        4,
        sbu("mymodule"),
        sbu("Thing"),
        STACK_GLOBAL,
        OP.EMPTY_TUPLE,
        OP.EMPTY_DICT,
        OP.NEWOBJ_EX,
        OP.EMPTY_DICT,
        OP.BUILD,
        STOP,
      ),
    );
    expect(names(r)).toEqual({ "mymodule.Thing": "suspicious" });
    expect(r.verdict).toBe("suspicious");
  });

  it("dotted qualnames on allowlisted classes are not safe", () => {
    expect(classifyGlobal("numpy", "ndarray.tofile")).toBe("dangerous");
    expect(classifyGlobal("sklearn.pipeline", "Pipeline.__init__")).toBe("dangerous");
    expect(classifyGlobal("sklearn.pipeline", "Pipeline.fit")).toBe("dangerous");
    expect(classifyGlobal("builtins", "getattr")).toBe("dangerous");
    expect(classifyGlobal("__builtin__", "set")).toBe("safe");
    expect(classifyGlobal("copy_reg", "_reconstructor")).toBe("safe");
    expect(classifyGlobal("torch", "FloatStorage")).toBe("safe");
    expect(classifyGlobal("__main__", "SentimentNet")).toBe("suspicious");
    expect(classifyGlobal("nt", "system")).toBe("dangerous");
    // partial is judged by what it wraps (see the partial tests), not banned
    expect(classifyGlobal("functools", "partial")).toBe("safe");
    expect(classifyGlobal("operator", "attrgetter")).toBe("dangerous");
    expect(classifyGlobal("torch.serialization", "load")).toBe("dangerous");
    expect(classifyGlobal("sklearn.utils._testing", "assert_run_python_script")).toBe("dangerous");
  });

  it("PERSID / BINPERSID torch storages are fine in a plain pickle walk", () => {
    const s = walkPickle(
      bytes(OP.PROTO, 2, "(", sbu("storage"), "ctorch\nFloatStorage\n", sbu("0"), sbu("cpu"), OP.BININT1, 4, "t", OP.BINPERSID, STOP),
    );
    expect(s.complete).toBe(true);
    expect(s.persistentIds).toBe(1);
  });

  it("deep MARK nesting stops at a limit instead of exhausting memory", async () => {
    const r = await inspectBytes(concat(bytes(OP.PROTO, 4), new Uint8Array(200_000).fill(OP.MARK), bytes(STOP)), "deep.pkl", 65536);
    expect(r.verdict).not.toBe("safe");
  });
});

describe("names, secrets and caps", () => {
  it("a dangerous global after 10k listed ones is still counted", async () => {
    const parts: Uint8Array[] = [bytes(OP.PROTO, 4)];
    for (let i = 0; i < 10_050; i++) parts.push(bytes(sbu(`pkg${i}`), sbu("C"), STACK_GLOBAL, POP));
    parts.push(bytes(sbu("posix"), sbu("system"), STACK_GLOBAL, STOP));
    const r = await inspectStored(concat(...parts), "many.pkl");
    expect(r.verdict).toBe("dangerous");
    expect(r.findings.map((f) => f.code)).toContain("globals-overflow");
  });

  it("an oversized module string cannot be judged, so it is dangerous", async () => {
    const long = "a".repeat(20_000);
    const p = bytes(OP.PROTO, 4, OP.BINUNICODE8, u64(long.length), long, sbu("system"), STACK_GLOBAL, STOP);
    const r = await inspectStored(p, "long.pkl");
    expect(r.verdict).toBe("dangerous");
    expect(r.findings.map((f) => f.code)).toContain("unresolved-global");
  });

  it("STACK_GLOBAL on non-strings is corrupt (Python refuses it)", async () => {
    expect((await inspectStored(bytes(OP.PROTO, 4, OP.BININT1, 1, OP.BININT1, 2, STACK_GLOBAL, STOP), "x.pkl")).verdict).toBe("invalid");
  });

  it("credentials stored in pickled attributes are reported, redacted", async () => {
    const key = "AKIA" + "Q2W3E4R5T6Y7U8I9";
    const p = bytes(OP.PROTO, 4, OP.EMPTY_DICT, sbu("aws_access_key_id"), sbu(key), OP.SETITEM, STOP);
    const r = await inspectStored(p, "cfg.pkl");
    expect(r.verdict).toBe("dangerous");
    expect(JSON.stringify(r)).not.toContain(key);
  });
});

describe("concatenated pickles", () => {
  it("a malicious second pickle after a benign model makes the file dangerous", async () => {
    const b = concat(fixture("credit_risk_v2.1.pkl"), fixture("malicious_os_system.pkl"));
    const r = await bothPaths(b);
    expect(r.verdict).toBe("dangerous");
    expect(names(r)["posix.system"]).toBe("dangerous");
    expect(r.metadata.pickles).toBe(2);
  });

  it("a protocol-0 malicious pickle appended to a protocol-4 one", async () => {
    const b = concat(fixture("credit_risk_v2.1.pkl"), fixture("malicious_eval_proto0.pkl"));
    expect((await bothPaths(b)).verdict).toBe("dangerous");
  });

  it("junk after STOP is not silently accepted", async () => {
    const b = concat(fixture("credit_risk_v2.1.pkl"), bytes(0xff, 0xfe, 0x00, 0x01));
    const r = await bothPaths(b);
    expect(r.verdict).toBe("suspicious");
    expect(r.findings.map((f) => f.code)).toContain("trailing-data");
  });
});

describe("declared lengths and truncation", () => {
  it("BINBYTES8 claiming 2^60 bytes: invalid, fast, nothing allocated", async () => {
    const p = bytes(OP.PROTO, 4, OP.BINBYTES8, u64(1n << 60n), "abc");
    const t0 = performance.now();
    const stored = await inspectStored(p, "huge.pkl");
    const streamed = await inspectBytes(p, "huge.pkl", 3);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(stored.verdict).toBe("invalid");
    expect(streamed.verdict).toBe("invalid");
  });

  it("BINUNICODE8 / BYTEARRAY8 / LONG4 with huge lengths", async () => {
    for (const op of [bytes(OP.BINUNICODE8, u64(2n ** 62n)), bytes(OP.BYTEARRAY8, u64(2n ** 61n)), bytes(OP.LONG4, u32(0x7fffffff))]) {
      expect((await inspectStored(bytes(OP.PROTO, 5, op), "x.pkl")).verdict).toBe("invalid");
    }
  });

  it("dangerous globals seen before a truncation still make the file dangerous", async () => {
    const full = fixture("malicious_subprocess.pkl");
    const cut = full.subarray(0, full.length - 6);
    const r = await bothPaths(cut);
    expect(r.verdict).toBe("dangerous");
  });

  it("every prefix of a pickle is either complete or not safe", async () => {
    const full = fixture("credit_risk_v2.1.pkl");
    for (let n = 0; n < full.length; n += 37) {
      const r = await inspectBytes(full.subarray(0, n), "p.pkl", 64);
      expect(r.verdict).not.toBe("safe");
    }
  });

  it("a legacy torch file cut inside its raw storages is invalid", async () => {
    const full = fixture("sentiment_legacy.pt");
    const r = await inspectStored(full.subarray(0, full.length - 100), "legacy.pt");
    expect(r.format).toBe("pytorch-legacy");
    expect(r.verdict).toBe("invalid");
  });
});

describe("joblib raw arrays", () => {
  it("arrays are stepped over exactly (a fresh walk completes)", () => {
    const s = walkPickle(fixture("customer_segmentation_v1.0.pkl"));
    expect(s.complete).toBe(true);
    expect(s.joblibArrays).toBe(2);
  });

  it("a malicious pickle hidden after the array bytes is found", async () => {
    const b = concat(fixture("customer_segmentation_v1.0.pkl"), fixture("malicious_os_system.pkl"));
    expect((await bothPaths(b)).verdict).toBe("dangerous");
  });
});

describe("fail closed: how a global is used decides", () => {
  const { NEWOBJ, EMPTY_TUPLE, EMPTY_DICT, BUILD } = OP;

  it("code outside the allowlist is suspicious when only instantiated, dangerous when called", async () => {
    const made = await bothPaths(
      bytes(OP.PROTO, 4, sbu("mypkg.models"), sbu("Net"), STACK_GLOBAL, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, BUILD, STOP),
    );
    expect(names(made)).toEqual({ "mypkg.models.Net": "suspicious" });
    const called = await bothPaths(bytes(OP.PROTO, 4, sbu("mypkg.models"), sbu("Net"), STACK_GLOBAL, sbu("x"), TUPLE1, REDUCE, STOP));
    expect(names(called)).toEqual({ "mypkg.models.Net": "dangerous" });
  });

  it("a standard-library name not on the allowlist is dangerous even when only instantiated", async () => {
    const r = await bothPaths(bytes(OP.PROTO, 4, sbu("logging"), sbu("FileHandler"), STACK_GLOBAL, EMPTY_TUPLE, NEWOBJ, STOP));
    expect(names(r)).toEqual({ "logging.FileHandler": "dangerous" });
  });

  it("functools.partial is judged by what it wraps", async () => {
    const benign = await bothPaths(
      bytes(OP.PROTO, 4, sbu("functools"), sbu("partial"), STACK_GLOBAL, sbu("numpy"), sbu("clip"), STACK_GLOBAL, TUPLE1, REDUCE, STOP),
    );
    expect(benign.verdict).toBe("safe");
    const evil = await bothPaths(
      bytes(
        OP.PROTO,
        4,
        sbu("functools"),
        sbu("partial"),
        STACK_GLOBAL,
        sbu("mypkg"),
        sbu("run"),
        STACK_GLOBAL,
        TUPLE1,
        REDUCE,
        EMPTY_TUPLE,
        REDUCE,
        STOP,
      ),
    );
    expect(names(evil)["mypkg.run"]).toBe("dangerous");
  });

  it("getattr is safe only when it reaches an allowlisted name", async () => {
    const ok = await bothPaths(bytes("c__builtin__\ngetattr\n(cscipy.interpolate._interpolate\ninterp1d\nS'_call_linear'\ntR."));
    expect(ok.verdict).toBe("safe");
    const evil = await bothPaths(bytes("c__builtin__\ngetattr\n(cnumpy\nndarray\nS'tofile'\ntR."));
    expect(names(evil)).toMatchObject({ "__builtin__.getattr": "dangerous", "numpy.ndarray.tofile": "dangerous" });
  });

  it("numpy's _ufunc_reconstruct imports what its arguments name", async () => {
    const ok = await bothPaths(bytes("cnumpy.core\n_ufunc_reconstruct\n(S'numpy'\nS'log1p'\ntR."));
    expect(ok.verdict).toBe("safe");
    const evil = await bothPaths(bytes("cnumpy.core\n_ufunc_reconstruct\n(S'posix'\nS'system'\ntR."));
    expect(names(evil)).toMatchObject({ "posix.system": "dangerous", "numpy.core._ufunc_reconstruct": "dangerous" });
  });

  it("a global used as a BUILD target (setattr on a live object) is dangerous", async () => {
    const r = await bothPaths(bytes("cnumpy\nndarray\n(N}S'x'\nI1\nstb."));
    expect(names(r)["numpy.ndarray"]).toBe("dangerous");
  });

  it("bytes handed to torch.storage._load_from_bytes are inspected as a file", async () => {
    const evil = fixture("malicious_torch.pt");
    const p = concat(
      bytes(OP.PROTO, 4, sbu("torch.storage"), sbu("_load_from_bytes"), STACK_GLOBAL, OP.BINBYTES, u32(evil.length)),
      evil,
      bytes(TUPLE1, REDUCE, STOP),
    );
    const r = await bothPaths(p);
    expect(names(r)).toMatchObject({ "torch.storage._load_from_bytes": "safe", "posix.system": "dangerous" });
  });
});
