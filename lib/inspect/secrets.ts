/**
 * Finds credentials in configuration text: well-known token formats anywhere, and high-entropy
 * values under secret-looking keys. Matches are redacted to a short prefix plus the length.
 */

export interface SecretHit {
  kind: string;
  redacted: string;
}

const PATTERNS: Array<[string, RegExp]> = [
  ["anthropic-api-key", /\bsk-ant-(?:api\d\d-|admin\d\d-)?[A-Za-z0-9_-]{20,}/],
  ["openai-api-key", /\bsk-(?!ant-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}/],
  ["aws-access-key-id", /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b/],
  ["github-token", /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b/],
  ["slack-token", /\bxox[abposr]-[A-Za-z0-9-]{10,}/],
  ["slack-webhook", /hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+/],
  ["google-api-key", /\bAIza[0-9A-Za-z_-]{35}\b/],
  ["huggingface-token", /\bhf_[A-Za-z0-9]{30,}\b/],
  ["stripe-key", /\b(?:sk|rk)_live_[A-Za-z0-9]{20,}\b/],
  ["private-key", /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/],
  ["jwt", /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/],
  ["bearer-token", /\bBearer\s+[A-Za-z0-9._~+/-]{20,}=*/],
  ["url-credentials", /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^/\s:@]{1,64}:[^/\s@]{3,128}@[^\s/]+/i],
];

// Key words that name a secret, and trailing words that say the value is only a reference to one.
const SECRET_WORDS = new Set([
  "password",
  "passwd",
  "pwd",
  "passphrase",
  "secret",
  "apikey",
  "token",
  "credential",
  "credentials",
  "bearer",
]);
const SECRET_PAIRS = [
  ["api", "key"],
  ["access", "key"],
  ["private", "key"],
  ["secret", "key"],
  ["auth", "token"],
  ["client", "secret"],
  ["auth", "key"],
  ["session", "key"],
];
const REFERENCE_WORDS = new Set([
  "env",
  "var",
  "variable",
  "name",
  "file",
  "path",
  "id",
  "ids",
  "type",
  "url",
  "uri",
  "endpoint",
  "count",
  "limit",
  "length",
  "len",
  "size",
  "max",
  "min",
  "prefix",
  "header",
  "ttl",
  "expiry",
  "expires",
  "field",
  "template",
  "ref",
  "arn",
  "source",
  "location",
  "kind",
  "format",
]);
const TOKENIZER_WORDS = new Set([
  "bos",
  "eos",
  "pad",
  "unk",
  "sep",
  "cls",
  "mask",
  "special",
  "start",
  "end",
  "image",
  "audio",
  "eot",
  "eom",
  "fim",
  "middle",
  "suffix",
  "prefix",
]);
const PLACEHOLDER =
  /^(?:<[^>]*>|\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|%\([^)]*\)s|\{\{[^}]*\}\}|x+|\*+|\.+|-+|changeme|change[_-]?me|your[_-].*|replace[_-]?me|redacted|none|null|todo|tbd|example|placeholder|secret|password|token|env:.*|vault:.*|arn:aws:secretsmanager:.*)$/i;
const ENV_NAME = /^[A-Z][A-Z0-9_]{2,}$/;
// Provider keys are random base62: demanding upper, lower and digits avoids matching slugs like "sk-learn-...".
const MIXED_CASE_KINDS = new Set(["openai-api-key", "anthropic-api-key"]);

function charClasses(v: string): number {
  return [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(v)).length;
}

function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** True when a key names a credential (api_key, clientSecret, password) rather than a reference to one (api_key_env). */
export function isSecretKey(key: string): boolean {
  const words = keyWords(key);
  if (words.length === 0) return false;
  const last = words[words.length - 1]!;
  if (REFERENCE_WORDS.has(last)) return false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (SECRET_WORDS.has(w)) {
      if (w === "token" && i > 0 && TOKENIZER_WORDS.has(words[i - 1]!)) return false;
      return true;
    }
    for (const [a, b] of SECRET_PAIRS) if (w === a && words[i + 1] === b) return true;
  }
  return false;
}

function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  const n = s.length;
  for (const c of counts.values()) {
    const p = c / n;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Never echo a secret: keep a short prefix and the length. */
export function redact(secret: string): string {
  const keep = Math.min(6, Math.floor(secret.length / 5));
  return `${secret.slice(0, keep)}… (${secret.length} chars)`;
}

function looksLikeCredentialValue(key: string, value: string): boolean {
  const v = value.trim();
  if (v.length < 8 || v.length > 8192) return false;
  if (PLACEHOLDER.test(v) || ENV_NAME.test(v)) return false;
  const words = keyWords(key);
  const isPassword = words.some((w) => w === "password" || w === "passwd" || w === "pwd" || w === "passphrase");
  if (isPassword) return !/\s/.test(v) || v.length <= 64;
  if (/\s/.test(v)) return false;
  if (/^https?:\/\//i.test(v) && !/[?&](?:key|token|sig|signature|secret)=/i.test(v)) return false;
  const classes = charClasses(v);
  const entropy = shannonEntropy(v);
  return v.length >= 16 && classes >= 2 && entropy >= (v.length >= 24 ? 3.5 : 3.0);
}

// One cheap test before the pattern list: a substring every token format above contains.
const PREFILTER =
  /sk-|A(?:KIA|SIA|BIA|CCA|GPA|IDA|ROA|NPA)|gh[pousr]_|github_pat_|xox[abposr]-|hooks\.slack\.com|AIza|hf_|_live_|PRIVATE KEY|eyJ|Bearer|:\/\/[^\s/@]{1,64}:[^\s/@]{3,128}@/;

/** False when no token pattern can match (most strings in a model file): lets callers skip the full scan. */
export function mightHoldSecret(value: string): boolean {
  return value.length >= 12 && PREFILTER.test(value.length > 65536 ? value.slice(0, 65536) : value);
}

/** Secrets in one string value; `key` is the property it sits under (null for bare strings). */
export function findSecrets(key: string | null, value: string): SecretHit[] {
  const hits: SecretHit[] = [];
  const text = value.length > 65536 ? value.slice(0, 65536) : value;
  if (mightHoldSecret(text)) {
    for (const [kind, re] of PATTERNS) {
      const m = re.exec(text);
      if (m && (!MIXED_CASE_KINDS.has(kind) || charClasses(m[0].slice(3)) >= 3)) hits.push({ kind, redacted: redact(m[0]) });
    }
  }
  if (hits.length === 0 && key !== null && isSecretKey(key) && looksLikeCredentialValue(key, text)) {
    hits.push({ kind: "credential-value", redacted: redact(text.trim()) });
  }
  return hits;
}
