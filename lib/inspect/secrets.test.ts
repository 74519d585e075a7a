import { describe, expect, it } from "vitest";
import { findSecrets, isSecretKey, redact } from "./secrets";

const kinds = (key: string | null, v: string) => findSecrets(key, v).map((h) => h.kind);

describe("findSecrets", () => {
  it.each([
    ["openai-api-key", "sk-proj-2xXH3qQfICo0kihSIBBpGtpO2peAdy60mryL9I6ZqmKyVNjM"],
    ["openai-api-key", "sk-" + "T3BlbkFJ".repeat(6)],
    ["anthropic-api-key", "sk-ant-api03-" + "aB3dE5fG7hJ9kL1mN2pQ4rS6".repeat(3)],
    ["aws-access-key-id", "AKIAIOSFODNN7EXAMPLE"],
    ["github-token", "ghp_" + "a1B2c3D4e5F6g7H8i9J0".repeat(2)],
    ["slack-token", "xoxb-123456789012-abcdefABCDEF"],
    ["google-api-key", "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"],
    ["private-key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow..."],
    ["bearer-token", "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345"],
    ["url-credentials", "postgres://admin:hunter22@db.internal:5432/prod"],
  ])("finds %s", (kind, value) => {
    expect(kinds(null, value)).toContain(kind);
  });

  it("finds high-entropy values under secret-looking keys at any name style", () => {
    for (const key of ["api_key", "apiKey", "client-secret", "AUTH_TOKEN", "db.password", "secretKey", "private_key"]) {
      expect(kinds(key, "q8Z2vN5xR1tY7wK3mP9s")).toEqual(["credential-value"]);
    }
    expect(kinds("password", "hunter2!x")).toEqual(["credential-value"]);
  });

  it("ignores references to secrets and tokenizer settings", () => {
    expect(isSecretKey("api_key_env")).toBe(false);
    expect(isSecretKey("organization_env")).toBe(false);
    expect(isSecretKey("max_tokens")).toBe(false);
    expect(isSecretKey("bos_token")).toBe(false);
    expect(isSecretKey("tokenizer")).toBe(false);
    expect(isSecretKey("token_id")).toBe(false);
    expect(findSecrets("api_key_env", "OPENAI_API_KEY")).toEqual([]);
    expect(findSecrets("api_key", "OPENAI_API_KEY")).toEqual([]);
    expect(findSecrets("api_key", "${OPENAI_API_KEY}")).toEqual([]);
    expect(findSecrets("password", "changeme")).toEqual([]);
    expect(findSecrets("api_key_env", "AWS_BEARER_TOKEN_BEDROCK")).toEqual([]);
    expect(findSecrets("job_id", "ftjob-5B71CK0FJJqQPDqTdhkgNQxr")).toEqual([]);
    expect(findSecrets("fine_tuned_model", "arn:aws:bedrock:us-west-2:954255503491:custom-model/x")).toEqual([]);
    expect(findSecrets("name", "sk-learn-pipeline-preprocessing-step")).toEqual([]);
    expect(findSecrets("pad_token", "<|endoftext|>")).toEqual([]);
  });

  it("redacts to a short prefix and the length", () => {
    const s = "sk-proj-2xXH3qQfICo0kihSIBBpGtpO2peAdy60mryL9I6ZqmKyVNjM";
    expect(redact(s)).toBe(`sk-pro… (${s.length} chars)`);
    for (const hit of findSecrets("api_key", s)) expect(hit.redacted).not.toContain(s.slice(6, 12));
  });
});
