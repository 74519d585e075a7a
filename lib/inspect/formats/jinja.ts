/**
 * Chat templates (GGUF `tokenizer.chat_template`, Hugging Face `chat_template`) are Jinja programs
 * that llama.cpp bindings and transformers render with the user's messages; a non-sandboxed render
 * of `{{ ''.__class__.__mro__[1].__subclasses__() }}` runs Python (CVE-2024-34359). This lexes and
 * parses the template the way Jinja2 does (its string escapes included) and judges the syntax tree:
 * attribute or item access to underscore names or frame/code internals, names built from string
 * pieces (`~`, `+`, `|join`, `|format`, `|replace`, `[::-1]`, `'_' * 2`, `\x5f`), `attr()` with a
 * computed name, `str.format` fields that reach attributes, calls to interpreter names. Text outside
 * `{{ }}` / `{% %}` is never judged, so prose that mentions eval() is fine.
 */

export interface TemplateFinding {
  severity: "danger" | "warning";
  code: string;
  message: string;
}

type Node =
  | { t: "str"; v: string }
  | { t: "num"; v: number }
  | { t: "const"; v: boolean | null }
  | { t: "name"; v: string }
  | { t: "list" | "tuple"; items: Node[] }
  | { t: "dict"; items: Array<[Node, Node]> }
  | { t: "attr"; obj: Node; name: string }
  | { t: "item"; obj: Node; key: Node }
  | { t: "slice"; obj: Node; start: Node | null; stop: Node | null; step: Node | null }
  | { t: "call"; fn: Node; args: Node[]; kwargs: Array<[string, Node]> }
  | { t: "filter"; obj: Node; name: string; args: Node[]; kwargs: Array<[string, Node]> }
  | { t: "test"; obj: Node; name: string; args: Node[] }
  | { t: "bin"; op: string; a: Node; b: Node }
  | { t: "un"; op: string; a: Node }
  | { t: "cond"; a: Node; cond: Node; b: Node | null };

interface Tok {
  k: "name" | "str" | "num" | "op" | "end";
  v: string;
}

class TemplateSyntaxError extends Error {}

/** Internals a sandbox escape walks through; none of them has a legitimate use in a chat template. */
const INTERNALS = new Set([
  "mro",
  "gi_frame",
  "gi_code",
  "cr_frame",
  "cr_code",
  "ag_frame",
  "f_back",
  "f_globals",
  "f_locals",
  "f_builtins",
  "f_code",
  "tb_frame",
  "tb_next",
  "co_code",
  "co_consts",
  "func_globals",
  "func_code",
  "im_func",
  "im_self",
  "func_closure",
]);
/** Names that do not exist in a sandboxed render; a template that calls or reaches into them is after the interpreter. */
const INTERPRETER_NAMES = new Set([
  "os",
  "sys",
  "subprocess",
  "builtins",
  "eval",
  "exec",
  "compile",
  "open",
  "getattr",
  "setattr",
  "delattr",
  "globals",
  "locals",
  "vars",
  "input",
  "importlib",
  "config",
  "request",
  "self",
  "__import__",
  "__builtins__",
]);
const ATTRIBUTE_FILTERS = new Set(["map", "selectattr", "rejectattr", "sort", "groupby", "sum", "unique", "min", "max", "dictsort"]);
const INCLUDE_TAGS = new Set(["include", "import", "extends", "from"]);
const END_TAGS = /^(end\w+|else|break|continue|raw|pluralize|autoescape|endautoescape)$/;

/** Python's unicode-escape decoding of a string literal body (what Jinja2's lexer applies). */
function unescape(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]*\}|[0-7]{1,3}|[\\'"abfnrtv\n])/g, (m, e: string) => {
    const c = e[0]!;
    if (c === "x" || c === "u" || c === "U") {
      const cp = parseInt(e.slice(1), 16);
      return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    if (c === "N") return e === "N{LOW LINE}" ? "_" : "\ufffd";
    if (/[0-7]/.test(c)) return String.fromCharCode(parseInt(e, 8));
    const map: Record<string, string> = {
      "\\": "\\",
      "'": "'",
      '"': '"',
      a: "\x07",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
      "\n": "",
    };
    return map[c] ?? m;
  });
}

/** Splits the template into the code inside its tags (statements and expressions), skipping text, comments and raw blocks. */
function tags(src: string): Array<{ kind: "expr" | "stmt"; body: string }> {
  const out: Array<{ kind: "expr" | "stmt"; body: string }> = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf("{", i);
    if (open < 0 || open + 1 >= src.length) break;
    const next = src[open + 1];
    if (next !== "{" && next !== "%" && next !== "#") {
      i = open + 1;
      continue;
    }
    if (next === "#") {
      const close = src.indexOf("#}", open + 2);
      if (close < 0) throw new TemplateSyntaxError("unclosed comment");
      i = close + 2;
      continue;
    }
    const close = findClose(src, open + 2, next === "{" ? "}}" : "%}");
    let body = src
      .slice(open + 2, close)
      .replace(/^[-+]/, "")
      .replace(/[-+]$/, "");
    i = close + 2;
    if (next === "%" && /^\s*raw\s*$/.test(body)) {
      const end = /\{%[-+]?\s*endraw\s*[-+]?%\}/.exec(src.slice(i));
      if (!end) throw new TemplateSyntaxError("unclosed raw block");
      i += end.index + end[0].length;
      continue;
    }
    body = body.trim();
    out.push({ kind: next === "{" ? "expr" : "stmt", body });
  }
  return out;
}

/** The closing delimiter, skipping string literals (a "}}" inside quotes does not end the tag). */
function findClose(src: string, from: number, delim: string): number {
  let q: string | null = null;
  for (let i = from; i < src.length; i++) {
    const c = src[i]!;
    if (q) {
      if (c === "\\") i++;
      else if (c === q) q = null;
    } else if (c === "'" || c === '"') q = c;
    else if (src.startsWith(delim, i)) return i;
  }
  throw new TemplateSyntaxError(`unclosed ${delim === "}}" ? "{{" : "{%"}`);
}

const OPS = [
  "//",
  "**",
  "==",
  "!=",
  ">=",
  "<=",
  "+",
  "-",
  "/",
  "*",
  "%",
  "~",
  "[",
  "]",
  "(",
  ")",
  "{",
  "}",
  ">",
  "<",
  "=",
  ".",
  ":",
  "|",
  ",",
  ";",
];

function lex(body: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < body.length && body[j] !== c) j += body[j] === "\\" ? 2 : 1;
      if (j >= body.length) throw new TemplateSyntaxError("unterminated string");
      toks.push({ k: "str", v: unescape(body.slice(i + 1, j)) });
      i = j + 1;
      continue;
    }
    const num = /^(\d[\d_]*(\.\d[\d_]*)?([eE][+-]?\d+)?)/.exec(body.slice(i, i + 64));
    if (num) {
      toks.push({ k: "num", v: num[1]!.replace(/_/g, "") });
      i += num[1]!.length;
      continue;
    }
    const name = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(body.slice(i, i + 256));
    if (name) {
      toks.push({ k: "name", v: name[0] });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => body.startsWith(o, i));
    if (!op) throw new TemplateSyntaxError(`unexpected character ${JSON.stringify(c)}`);
    toks.push({ k: "op", v: op });
    i += op.length;
  }
  toks.push({ k: "end", v: "" });
  return toks;
}

/** Jinja2's expression grammar (jinja2/parser.py), enough to build the tree the checks walk. */
class Parser {
  private p = 0;
  constructor(private readonly toks: Tok[]) {}

  peek(v?: string): boolean {
    const t = this.toks[this.p]!;
    return v === undefined ? t.k !== "end" : (t.k === "op" || t.k === "name") && t.v === v;
  }

  next(): Tok {
    return this.toks[this.p++] ?? { k: "end", v: "" };
  }

  expect(v: string): void {
    const t = this.next();
    if (t.v !== v) throw new TemplateSyntaxError(`expected ${v}, found ${t.v || "end"}`);
  }

  name(): string {
    const t = this.next();
    if (t.k !== "name") throw new TemplateSyntaxError(`expected a name, found ${t.v || "end"}`);
    return t.v;
  }

  done(): boolean {
    return this.toks[this.p]!.k === "end";
  }

  expr(): Node {
    const a = this.or();
    if (this.peek("if")) {
      this.next();
      const cond = this.or();
      let b: Node | null = null;
      if (this.peek("else")) {
        this.next();
        b = this.expr();
      }
      return { t: "cond", a, cond, b };
    }
    return a;
  }

  /** An assignment target (for, set, with): names, `ns.attr`, or a tuple of them. */
  target(): Node {
    const one = (): Node => {
      if (this.peek("(")) {
        this.next();
        const t = this.target();
        this.expect(")");
        return t;
      }
      let n: Node = { t: "name", v: this.name() };
      while (this.peek(".")) {
        this.next();
        n = { t: "attr", obj: n, name: this.name() };
      }
      return n;
    };
    const items = [one()];
    while (this.peek(",")) {
      this.next();
      if (!this.peek() || this.peek("in") || this.peek("=") || this.peek(")")) break;
      items.push(one());
    }
    return items.length === 1 ? items[0]! : { t: "tuple", items };
  }

  /** Comma-separated expressions: a tuple when there is a comma. */
  tuple(): Node {
    const items = [this.expr()];
    while (this.peek(",")) {
      this.next();
      if (!this.peek() || this.peek(")") || this.peek("=")) break;
      items.push(this.expr());
    }
    return items.length === 1 ? items[0]! : { t: "tuple", items };
  }

  private binary(next: () => Node, ops: string[]): Node {
    let a = next();
    for (;;) {
      const t = this.toks[this.p]!;
      if (!ops.includes(t.v) || (t.k !== "op" && t.k !== "name")) return a;
      this.next();
      a = { t: "bin", op: t.v, a, b: next() };
    }
  }

  private or = (): Node => this.binary(this.and, ["or"]);
  private and = (): Node => this.binary(this.not, ["and"]);
  private not = (): Node => {
    if (this.peek("not")) {
      this.next();
      return { t: "un", op: "not", a: this.not() };
    }
    return this.compare();
  };
  private compare = (): Node => {
    let a = this.math1();
    for (;;) {
      if (this.peek("not") && this.toks[this.p + 1]?.v === "in") {
        this.p += 2;
        a = { t: "bin", op: "not in", a, b: this.math1() };
      } else if (["==", "!=", ">", ">=", "<", "<=", "in"].some((o) => this.peek(o))) {
        const op = this.next().v;
        a = { t: "bin", op, a, b: this.math1() };
      } else return a;
    }
  };
  private math1 = (): Node => this.binary(this.concat, ["+", "-"]);
  private concat = (): Node => this.binary(this.math2, ["~"]);
  private math2 = (): Node => this.binary(this.pow, ["*", "/", "//", "%"]);
  private pow = (): Node => this.binary(this.unary, ["**"]);

  private unary = (): Node => {
    if (this.peek("-") || this.peek("+")) {
      const op = this.next().v;
      return this.filters({ t: "un", op, a: this.unary() });
    }
    return this.filters(this.postfix(this.primary()));
  };

  private primary(): Node {
    const t = this.next();
    if (t.k === "str") {
      let v = t.v;
      while (this.toks[this.p]!.k === "str") v += this.next().v; // adjacent literals concatenate
      return { t: "str", v };
    }
    if (t.k === "num") return { t: "num", v: Number(t.v) };
    if (t.k === "name") {
      if (t.v === "true" || t.v === "True") return { t: "const", v: true };
      if (t.v === "false" || t.v === "False") return { t: "const", v: false };
      if (t.v === "none" || t.v === "None") return { t: "const", v: null };
      return { t: "name", v: t.v };
    }
    if (t.v === "(") {
      if (this.peek(")")) {
        this.next();
        return { t: "tuple", items: [] };
      }
      const inner = this.tuple();
      this.expect(")");
      return inner;
    }
    if (t.v === "[") {
      const items: Node[] = [];
      while (!this.peek("]")) {
        items.push(this.expr());
        if (!this.peek("]")) this.expect(",");
      }
      this.next();
      return { t: "list", items };
    }
    if (t.v === "{") {
      const items: Array<[Node, Node]> = [];
      while (!this.peek("}")) {
        const k = this.expr();
        this.expect(":");
        items.push([k, this.expr()]);
        if (!this.peek("}")) this.expect(",");
      }
      this.next();
      return { t: "dict", items };
    }
    throw new TemplateSyntaxError(`unexpected ${t.v || "end of tag"}`);
  }

  private postfix(node: Node): Node {
    for (;;) {
      if (this.peek(".")) {
        this.next();
        const t = this.next();
        if (t.k !== "name" && t.k !== "num") throw new TemplateSyntaxError("expected an attribute name");
        node = { t: "attr", obj: node, name: t.v };
      } else if (this.peek("[")) {
        this.next();
        node = this.subscript(node);
      } else if (this.peek("(")) {
        this.next();
        const { args, kwargs } = this.callArgs();
        node = { t: "call", fn: node, args, kwargs };
      } else return node;
    }
  }

  private subscript(obj: Node): Node {
    const part = (): Node | null => (this.peek(":") || this.peek("]") ? null : this.expr());
    const start = part();
    if (!this.peek(":")) {
      this.expect("]");
      return { t: "item", obj, key: start ?? { t: "const", v: null } };
    }
    this.next();
    const stop = part();
    let step: Node | null = null;
    if (this.peek(":")) {
      this.next();
      step = part();
    }
    this.expect("]");
    return { t: "slice", obj, start, stop, step };
  }

  /** Arguments after "(" up to and including ")". */
  callArgs(): { args: Node[]; kwargs: Array<[string, Node]> } {
    const args: Node[] = [];
    const kwargs: Array<[string, Node]> = [];
    while (!this.peek(")")) {
      if (this.peek("*") || this.peek("**")) this.next();
      const t = this.toks[this.p]!;
      if (t.k === "name" && this.toks[this.p + 1]?.v === "=" && this.toks[this.p + 1]?.k === "op") {
        this.p += 2;
        kwargs.push([t.v, this.expr()]);
      } else args.push(this.expr());
      if (!this.peek(")")) this.expect(",");
    }
    this.next();
    return { args, kwargs };
  }

  private filters(node: Node): Node {
    for (;;) {
      if (this.peek("|")) {
        this.next();
        let name = this.name();
        while (this.peek(".")) {
          this.next();
          name += `.${this.name()}`;
        }
        let args: Node[] = [];
        let kwargs: Array<[string, Node]> = [];
        if (this.peek("(")) {
          this.next();
          ({ args, kwargs } = this.callArgs());
        }
        node = { t: "filter", obj: node, name, args, kwargs };
      } else if (this.peek("is")) {
        this.next();
        if (this.peek("not")) this.next();
        const name = this.name();
        const args: Node[] = [];
        if (this.peek("(")) {
          this.next();
          args.push(...this.callArgs().args);
        } else if (this.toks[this.p]!.k === "str" || this.toks[this.p]!.k === "num") args.push(this.primary());
        node = { t: "test", obj: node, name, args };
      } else return node;
    }
  }
}

/** Constant-folds string-building expressions (names bound by `set` included); null when the value depends on render-time data. */
function fold(n: Node, env: ReadonlyMap<string, string> = new Map(), depth = 0): string | null {
  if (depth > 64) return null;
  const f = (x: Node) => fold(x, env, depth + 1);
  switch (n.t) {
    case "name":
      return env.get(n.v) ?? null;
    case "str":
      return n.v;
    case "num":
      return String(n.v);
    case "bin":
      return foldBinary(n, f);
    case "filter":
      return foldFilter(n, f);
    case "slice":
      return foldSlice(n, f);
    case "call":
      return foldMethod(n, f);
    default:
      return null;
  }
}

type Fold = (n: Node) => string | null;

function foldBinary(n: Extract<Node, { t: "bin" }>, f: Fold): string | null {
  if (n.op === "~" || n.op === "+") {
    const a = f(n.a);
    const b = f(n.b);
    return a !== null && b !== null ? a + b : null;
  }
  if (n.op === "*") {
    const times = n.b.t === "num" ? n.b.v : n.a.t === "num" ? n.a.v : null;
    const s = n.b.t === "num" ? f(n.a) : f(n.b);
    return s !== null && times !== null && times >= 0 && times <= 1000 ? s.repeat(times) : null;
  }
  if (n.op === "%") {
    const fmt = f(n.a);
    const args = n.b.t === "tuple" || n.b.t === "list" ? n.b.items : [n.b];
    return fmt === null
      ? null
      : percentFormat(
          fmt,
          args.map((x) => (x.t === "num" ? x.v : f(x))),
        );
  }
  return null;
}

function foldFilter(n: Extract<Node, { t: "filter" }>, f: Fold): string | null {
  const base = f(n.obj);
  switch (n.name) {
    case "join": {
      const items = n.obj.t === "list" || n.obj.t === "tuple" ? n.obj.items.map(f) : null;
      const sep = n.args[0] ? f(n.args[0]) : "";
      return items && sep !== null && items.every((x) => x !== null) ? items.join(sep) : null;
    }
    case "replace": {
      const [a, b] = n.args.map(f);
      return base !== null && a != null && b != null ? base.split(a).join(b) : null;
    }
    case "reverse":
      return base !== null ? [...base].reverse().join("") : null;
    case "lower":
      return base?.toLowerCase() ?? null;
    case "upper":
      return base?.toUpperCase() ?? null;
    case "trim":
    case "string":
    case "e":
    case "escape":
    case "safe":
      return base?.trim() ?? null;
    case "format":
      return base !== null
        ? percentFormat(
            base,
            n.args.map((x) => (x.t === "num" ? x.v : f(x))),
          )
        : null;
    default:
      return null;
  }
}

function foldSlice(n: Extract<Node, { t: "slice" }>, f: Fold): string | null {
  const base = f(n.obj);
  const num = (x: Node | null, d: number) =>
    x === null ? d : x.t === "num" ? x.v : x.t === "un" && x.op === "-" && x.a.t === "num" ? -x.a.v : NaN;
  if (base === null) return null;
  const step = num(n.step, 1);
  if (!Number.isInteger(step) || step === 0) return null;
  const chars = [...base];
  const len = chars.length;
  const norm = (v: number) => (v < 0 ? Math.max(0, len + v) : Math.min(v, len));
  const out: string[] = [];
  if (step > 0) {
    for (let i = norm(num(n.start, 0)); i < norm(num(n.stop, len)); i += step) out.push(chars[i]!);
  } else {
    const start = n.start === null ? len - 1 : Math.min(norm(num(n.start, len - 1)), len - 1);
    const stop = n.stop === null ? -1 : norm(num(n.stop, -1));
    for (let i = start; i > stop; i += step) out.push(chars[i]!);
  }
  return out.join("");
}

/** "{}{}".format(a, b), "".join([...]), .replace(), .lower() … on a folded string. */
function foldMethod(n: Extract<Node, { t: "call" }>, f: Fold): string | null {
  if (n.fn.t !== "attr") return null;
  const base = f(n.fn.obj);
  if (base === null) return null;
  switch (n.fn.name) {
    case "join": {
      const list = n.args[0];
      const items = list && (list.t === "list" || list.t === "tuple") ? list.items.map(f) : null;
      return items && items.every((x) => x !== null) ? items.join(base) : null;
    }
    case "format": {
      const args = n.args.map(f);
      let k = 0;
      return args.every((x) => x !== null) ? base.replace(/\{(\d*)\}/g, (_, i: string) => args[i === "" ? k++ : Number(i)] ?? "") : null;
    }
    case "replace": {
      const [a, b] = n.args.map(f);
      return a != null && b != null ? base.split(a).join(b) : null;
    }
    case "lower":
      return base.toLowerCase();
    case "upper":
      return base.toUpperCase();
    case "strip":
      return base.trim();
    default:
      return null;
  }
}

function percentFormat(fmt: string, args: Array<string | number | null>): string | null {
  let k = 0;
  let ok = true;
  const out = fmt.replace(/%([sdrc%])/g, (_, c: string) => {
    if (c === "%") return "%";
    const v = args[k++];
    if (v === null || v === undefined) {
      ok = false;
      return "";
    }
    if (c === "c") return typeof v === "number" ? String.fromCharCode(v) : v;
    return String(v);
  });
  return ok ? out : null;
}

/** True when the node builds a string from pieces (the shape of an evasion, whatever it folds to). */
function builtFromPieces(n: Node): boolean {
  if (n.t === "bin") return n.op === "~" || n.op === "+" || n.op === "*" || n.op === "%" || builtFromPieces(n.a) || builtFromPieces(n.b);
  if (n.t === "filter") return ["join", "replace", "reverse", "format", "lower", "upper"].includes(n.name) || builtFromPieces(n.obj);
  if (n.t === "slice") return true;
  if (n.t === "call") return n.fn.t === "attr" && ["join", "format", "replace"].includes(n.fn.name);
  return false;
}

function unsafeName(name: string): boolean {
  return name.startsWith("_") || INTERNALS.has(name);
}

/** Format fields that walk attributes or items ("{0.__class__}", "{x[__globals__]}"). */
function unsafeFormatString(s: string): boolean {
  for (const m of s.matchAll(/\{([^{}]*)\}/g)) {
    const field = m[1]!.split(/[!:]/)[0]!;
    if (
      field
        .split(/[.[\]]/)
        .slice(1)
        .some((part) => part !== "" && (unsafeName(part) || !/^\w+$/.test(part)))
    )
      return true;
  }
  return false;
}

class Judge {
  readonly findings: TemplateFinding[] = [];
  /** Names bound by {% set %} to values known at parse time. */
  readonly env = new Map<string, string>();
  private readonly seen = new Set<string>();

  danger(code: string, message: string): void {
    if (this.seen.has(code + message) || this.findings.length >= 20) return;
    this.seen.add(code + message);
    this.findings.push({ severity: "danger", code, message });
  }

  warn(code: string, message: string): void {
    if (this.seen.has(code + message) || this.findings.length >= 20) return;
    this.seen.add(code + message);
    this.findings.push({ severity: "warning", code, message });
  }

  /** The name of an attribute reached by a computed key, as far as it can be known. */
  private computedName(key: Node, what: string, strict = false): void {
    const v = fold(key, this.env);
    if (v !== null) {
      const first = v.split(".")[0]!;
      if (v.split(".").some(unsafeName))
        this.danger("template-underscore-access", `${what} ${JSON.stringify(v.slice(0, 60))} reaches Python internals`);
      else if (builtFromPieces(key) && INTERPRETER_NAMES.has(first))
        this.danger("template-interpreter-name", `${what} builds the name ${first}`);
    } else if (strict || builtFromPieces(key)) {
      this.danger("template-computed-name", `${what} is built from pieces or data at render time (an evasion of attribute checks)`);
    }
  }

  walk(n: Node | null, depth = 0): void {
    if (!n || depth > 200) return;
    const w = (x: Node | null) => this.walk(x, depth + 1);
    switch (n.t) {
      case "attr":
        if (unsafeName(n.name)) this.danger("template-underscore-access", `attribute .${n.name.slice(0, 60)} reaches Python internals`);
        if (n.obj.t === "name" && INTERPRETER_NAMES.has(n.obj.v))
          this.danger("template-interpreter-name", `${n.obj.v}.${n.name.slice(0, 40)} reaches the interpreter`);
        return w(n.obj);
      case "item":
        this.computedName(n.key, "item key");
        if (n.obj.t === "name" && INTERPRETER_NAMES.has(n.obj.v))
          this.danger("template-interpreter-name", `${n.obj.v}[…] reaches the interpreter`);
        w(n.obj);
        return w(n.key);
      case "call":
        if (n.fn.t === "name" && (INTERPRETER_NAMES.has(n.fn.v) || n.fn.v.startsWith("_")))
          this.danger("template-interpreter-call", `calls ${n.fn.v}()`);
        if (n.fn.t === "attr" && (n.fn.name === "format" || n.fn.name === "format_map")) {
          const fmt = fold(n.fn.obj, this.env);
          if (fmt === null || unsafeFormatString(fmt))
            this.danger("template-format-access", "str.format with a format string that reaches attributes");
        }
        w(n.fn);
        n.args.forEach(w);
        n.kwargs.forEach(([, v]) => w(v));
        return;
      case "filter":
        if (n.name === "attr") this.computedName(n.args[0] ?? { t: "const", v: null }, "attr()", true);
        if (ATTRIBUTE_FILTERS.has(n.name)) {
          for (const [k, v] of n.kwargs) if (k === "attribute") this.computedName(v, `${n.name}(attribute=)`);
          if ((n.name === "selectattr" || n.name === "rejectattr" || n.name === "groupby") && n.args[0])
            this.computedName(n.args[0], `${n.name}()`);
        }
        if (n.name === "format") {
          const fmt = fold(n.obj, this.env);
          if (fmt !== null && unsafeFormatString(fmt))
            this.danger("template-format-access", "format filter with fields that reach attributes");
        }
        w(n.obj);
        n.args.forEach(w);
        n.kwargs.forEach(([, v]) => w(v));
        return;
      case "test":
        w(n.obj);
        n.args.forEach(w);
        return;
      case "bin":
        w(n.a);
        return w(n.b);
      case "un":
        return w(n.a);
      case "cond":
        w(n.a);
        w(n.cond);
        return w(n.b);
      case "slice":
        w(n.obj);
        w(n.start);
        w(n.stop);
        return w(n.step);
      case "list":
      case "tuple":
        return n.items.forEach(w);
      case "dict":
        return n.items.forEach(([k, v]) => {
          w(k);
          w(v);
        });
      case "name":
        if (n.v.startsWith("__")) this.danger("template-underscore-access", `name ${n.v.slice(0, 40)} reaches Python internals`);
        return;
      default:
        return;
    }
  }
}

/** Parses one `{% … %}` statement and hands its expressions (and assignment targets) to the judge. */
function statement(body: string, judge: Judge): void {
  const p = new Parser(lex(body));
  if (p.done()) return;
  const tag = p.name();
  if (END_TAGS.test(tag)) return;
  if (INCLUDE_TAGS.has(tag)) {
    judge.warn("template-include", `{% ${tag} %} loads another template from disk`);
    judge.walk(p.expr());
    return;
  }
  switch (tag) {
    case "if":
    case "elif":
    case "do":
      judge.walk(p.tuple());
      return;
    case "for": {
      judge.walk(p.target());
      p.expect("in");
      judge.walk(p.tuple());
      if (p.peek("if")) {
        p.next();
        judge.walk(p.expr());
      }
      return;
    }
    case "set":
    case "with": {
      while (p.peek()) {
        const target = p.target();
        judge.walk(target);
        if (p.peek("=")) {
          p.next();
          const value = p.tuple();
          judge.walk(value);
          const known = fold(value, judge.env);
          if (target.t === "name") {
            if (known !== null) judge.env.set(target.v, known);
            else judge.env.delete(target.v);
          }
        }
        if (p.peek(",")) p.next();
        else if (p.peek("|")) judge.walk(p.expr());
        else break;
      }
      return;
    }
    case "macro":
    case "call": {
      if (tag === "call" && p.peek("(")) {
        p.next();
        p.callArgs();
      }
      judge.walk(p.expr());
      return;
    }
    case "filter":
    case "block":
    case "trans":
      while (p.peek()) judge.walk(p.expr());
      return;
    default:
      throw new TemplateSyntaxError(`unknown tag ${tag}`);
  }
}

/** Judges a chat template; an empty list means nothing in it reaches beyond a sandboxed render. */
export function judgeTemplate(src: string): TemplateFinding[] {
  const judge = new Judge();
  try {
    for (const t of tags(src)) {
      if (t.kind === "expr") {
        const p = new Parser(lex(t.body));
        judge.walk(p.tuple());
        if (!p.done()) throw new TemplateSyntaxError("unexpected tokens after an expression");
      } else statement(t.body, judge);
    }
  } catch (e) {
    if (!(e instanceof TemplateSyntaxError)) throw e;
    // Jinja would refuse this template too, but a different parser might not: fall back to the tokens' text.
    const decoded = unescape(src);
    if (/__\w+__|\.(gi_frame|f_globals|f_builtins|func_globals)\b/.test(decoded)) {
      judge.danger("template-underscore-access", "the template (which does not parse) names Python internals");
    } else {
      judge.warn("template-unparsed", `the chat template does not parse as Jinja (${e.message}); it was not judged`);
    }
  }
  return judge.findings;
}
