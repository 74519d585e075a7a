import type { GlobalVerdict } from "./globals";
import { PyBytes, PyGlobal, PyLongStr, PyObj, PyPartial, PyTuple, UNKNOWN, type PValue } from "./values";

/** What a judge may do to the walker: follow calls and instantiations, name globals, raise verdicts. */
export interface CallSite {
  call(func: PValue, args: PValue): PValue;
  instantiate(cls: PValue, args: PValue): PValue;
  escalate(g: PyGlobal, verdict: GlobalVerdict, reason: string): void;
  /** A global reached indirectly (getattr, _ufunc_reconstruct): classified and listed like any other. */
  global(module: string, name: string): PyGlobal;
}

// base.__new__(cls, state) / base.__init__(obj, state) run for these bases in copyreg._reconstructor.
const INERT_BASES = new Set([
  "builtins.object",
  "builtins.dict",
  "builtins.list",
  "builtins.set",
  "builtins.frozenset",
  "builtins.int",
  "builtins.float",
  "builtins.str",
  "builtins.bytes",
  "builtins.tuple",
  "builtins.complex",
  "builtins.bool",
]);
const PLAIN_CODECS = new Set([
  "latin1",
  "latin-1",
  "latin_1",
  "iso-8859-1",
  "iso8859-1",
  "l1",
  "utf-8",
  "utf8",
  "utf_8",
  "ascii",
  "us-ascii",
]);

function arg(args: PValue, i: number): PValue | undefined {
  return args instanceof PyTuple ? args.items[i] : undefined;
}

function str(v: PValue | undefined): string | null {
  return typeof v === "string" ? v : null;
}

type Judge = (site: CallSite, g: PyGlobal, args: PValue) => PValue;

function reconstructor(site: CallSite, g: PyGlobal, args: PValue): PValue {
  const cls = arg(args, 0) ?? UNKNOWN;
  const base = arg(args, 1);
  site.instantiate(cls, args);
  if (base instanceof PyGlobal) {
    if (!INERT_BASES.has(base.info.resolved)) site.call(base, args);
  } else if (base !== undefined) {
    site.escalate(g, "dangerous", "copyreg._reconstructor with a computed base class");
  }
  return new PyObj(cls, args);
}

function newobj(site: CallSite, _g: PyGlobal, args: PValue): PValue {
  const cls = arg(args, 0) ?? UNKNOWN;
  return site.instantiate(cls, args);
}

function partial(_site: CallSite, _g: PyGlobal, args: PValue): PValue {
  return new PyPartial(arg(args, 0) ?? UNKNOWN);
}

function encode(site: CallSite, g: PyGlobal, args: PValue): PValue {
  const text = arg(args, 0);
  const codec = arg(args, 1);
  if (codec !== undefined && !(typeof codec === "string" && PLAIN_CODECS.has(codec.toLowerCase()))) {
    site.escalate(
      g,
      "dangerous",
      `codec ${typeof codec === "string" ? JSON.stringify(codec.slice(0, 40)) : "(computed)"} is not a plain text encoding`,
    );
  }
  const bytes = new PyBytes(typeof text === "string" ? text.length : text instanceof PyLongStr ? text.len : 0);
  if (text instanceof PyLongStr && text.nested) bytes.nested = "safe";
  return bytes;
}

function getattr(site: CallSite, g: PyGlobal, args: PValue): PValue {
  const target = arg(args, 0);
  const attr = str(arg(args, 1));
  if (target instanceof PyGlobal && attr !== null)
    return resolvedThrough(site, g, site.global(target.module, `${target.qualname}.${attr}`));
  site.escalate(g, "dangerous", "getattr on a computed object or with a computed name");
  return new PyObj(g, args);
}

function ufuncReconstruct(site: CallSite, g: PyGlobal, args: PValue): PValue {
  const mod = str(arg(args, 0));
  const name = str(arg(args, 1));
  if (mod === null || name === null) {
    site.escalate(g, "dangerous", "_ufunc_reconstruct imports a computed name");
    return new PyObj(g, args);
  }
  return resolvedThrough(site, g, site.global(mod, name));
}

/** A judged global that reaches another name is as bad as what it reaches. */
function resolvedThrough(site: CallSite, g: PyGlobal, target: PyGlobal): PyGlobal {
  if (target.info.kind !== "safe")
    site.escalate(g, target.info.kind === "unlisted" ? "suspicious" : "dangerous", `resolves to ${target.name}`);
  return target;
}

function arrayReconstruct(site: CallSite, g: PyGlobal, args: PValue): PValue {
  site.instantiate(arg(args, 0) ?? UNKNOWN, args);
  return new PyObj(g, args);
}

function maskedReconstruct(site: CallSite, g: PyGlobal, args: PValue): PValue {
  site.instantiate(arg(args, 0) ?? UNKNOWN, args);
  site.instantiate(arg(args, 1) ?? UNKNOWN, args);
  return new PyObj(g, args);
}

function randomCtor(site: CallSite, g: PyGlobal, args: PValue): PValue {
  const ctor = arg(args, 1);
  if (ctor !== undefined) site.call(ctor, new PyTuple([arg(args, 0) ?? null]));
  return new PyObj(g, args);
}

function rebuildFromType(site: CallSite, g: PyGlobal, args: PValue): PValue {
  const func = arg(args, 0) ?? UNKNOWN;
  const result = site.call(func, arg(args, 2) ?? new PyTuple([]));
  site.instantiate(arg(args, 1) ?? UNKNOWN, args);
  return result instanceof PyObj || result === UNKNOWN ? new PyObj(g, args) : result;
}

function loadFromBytes(site: CallSite, g: PyGlobal, args: PValue): PValue {
  const payload = arg(args, 0);
  if (!(payload instanceof PyBytes && payload.nested !== null)) {
    site.escalate(g, "dangerous", "torch.storage._load_from_bytes runs torch.load on bytes that could not be inspected");
  }
  return new PyObj(g, args);
}

const JUDGES: Record<string, Judge> = {
  "copyreg._reconstructor": reconstructor,
  "copyreg.__newobj__": newobj,
  "copyreg.__newobj_ex__": newobj,
  "functools.partial": partial,
  "_codecs.encode": encode,
  "codecs.encode": encode,
  "builtins.getattr": getattr,
  "numpy.core._ufunc_reconstruct": ufuncReconstruct,
  "numpy._core._ufunc_reconstruct": ufuncReconstruct,
  "numpy.core.multiarray._reconstruct": arrayReconstruct,
  "numpy._core.multiarray._reconstruct": arrayReconstruct,
  "numpy.ma.core._mareconstruct": maskedReconstruct,
  "numpy.random._pickle.__randomstate_ctor": randomCtor,
  "numpy.random._pickle.__generator_ctor": randomCtor,
  "torch._tensor._rebuild_from_type": rebuildFromType,
  "torch._tensor._rebuild_from_type_v2": rebuildFromType,
  "torch.storage._load_from_bytes": loadFromBytes,
};

/** Emulates a call of a judged global: follows what it would import, instantiate or call. */
export function judgeCall(site: CallSite, g: PyGlobal, args: PValue): PValue {
  const judge = JUDGES[g.info.resolved];
  if (!judge) {
    site.escalate(g, "dangerous", "no rule for this call");
    return new PyObj(g, args);
  }
  return judge(site, g, args);
}
