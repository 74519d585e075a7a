import "server-only";
import { ERRORS } from "@/lib/errors";
import { isCleanText } from "@/lib/validations/text";

// One bounded body reader for every JSON route: the declared length is checked before a byte is
// read, reading stops at the cap, a body that stops arriving is a 408, and text must be valid UTF-8
// without NUL (Postgres cannot store U+0000 in text; it would be a 500 further down).

export const JSON_BODY_LIMIT = 64 * 1024;
const IDLE_MS = 15_000;

/** The request body as text, at most `maxBytes`; never buffers more than that. */
export async function readBoundedText(req: Request, maxBytes = JSON_BODY_LIMIT, idleMs = IDLE_MS): Promise<string> {
  const declared = req.headers.get("content-length");
  if (declared !== null) {
    const n = Number(declared);
    if (!Number.isSafeInteger(n) || n < 0) throw ERRORS.invalidField("content-length", "Not a byte count.", "Invalid Content-Length.");
    if (n > maxBytes) throw ERRORS.jsonTooLarge(maxBytes);
  }
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const next = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(ERRORS.bodyTimeout()), idleMs))),
      ]).finally(() => clearTimeout(timer));
      if (next.done) break;
      total += next.value.byteLength;
      if (total > maxBytes) throw ERRORS.jsonTooLarge(maxBytes);
      chunks.push(next.value);
    }
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw e;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw ERRORS.invalidText();
  }
}

/** Throws when a parsed JSON value holds text Postgres cannot store (in keys or values, at any depth). */
export function mustBeCleanText(value: unknown, depth = 0): void {
  if (depth > 64) throw ERRORS.invalidJson();
  if (typeof value === "string") {
    if (!isCleanText(value)) throw ERRORS.invalidText();
  } else if (Array.isArray(value)) {
    for (const v of value) mustBeCleanText(v, depth + 1);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (!isCleanText(k)) throw ERRORS.invalidText();
      mustBeCleanText(v, depth + 1);
    }
  }
}

/**
 * Parses a JSON body: bounded, no NUL; an empty body is {}. Scripts with a bearer token may send any
 * content type; cookie-authenticated writes must not use the types other sites can send
 * (lib/http/same-origin.ts).
 */
export async function readJson(req: Request, maxBytes = JSON_BODY_LIMIT): Promise<unknown> {
  const text = await readBoundedText(req, maxBytes);
  if (!text.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw ERRORS.invalidJson();
  }
  mustBeCleanText(value);
  return value;
}
