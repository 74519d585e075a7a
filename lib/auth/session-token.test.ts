import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { signSessionToken, verifySessionToken } from "./session-token";

const key = new TextEncoder().encode("k".repeat(48));
const user = { id: "5b3c7a52-6f1d-4d7e-9a55-0d8f4d9f2e11", email: "a@b.test" };
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

describe("local session tokens", () => {
  it("round-trips Supabase-shaped claims", async () => {
    const claims = await verifySessionToken(await signSessionToken(user, 60, key), key);
    expect(claims).toMatchObject({ sub: user.id, email: user.email, role: "authenticated", aud: "authenticated", iss: "fairmind-local" });
  });

  it.each([
    [
      "a tampered payload",
      async () => {
        const [h, , s] = (await signSessionToken(user, 60, key)).split(".");
        return `${h}.${b64({ sub: "00000000-0000-0000-0000-000000000000", role: "authenticated", aud: "authenticated", iss: "fairmind-local", exp: 9e9 })}.${s}`;
      },
    ],
    [
      "alg: none",
      async () =>
        `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: user.id, role: "authenticated", aud: "authenticated", iss: "fairmind-local", exp: 9e9 })}.`,
    ],
    ["another key", async () => signSessionToken(user, 60, new TextEncoder().encode("z".repeat(48)))],
    ["an expired token", async () => signSessionToken(user, -10, key)],
    [
      "a token for another audience",
      async () =>
        new SignJWT({ role: "authenticated" })
          .setProtectedHeader({ alg: "HS256" })
          .setSubject(user.id)
          .setIssuer("fairmind-local")
          .setAudience("fairmind-download-link")
          .setExpirationTime("1h")
          .sign(key),
    ],
    [
      "a service_role token",
      async () =>
        new SignJWT({ role: "service_role" })
          .setProtectedHeader({ alg: "HS256" })
          .setSubject(user.id)
          .setIssuer("fairmind-local")
          .setAudience("authenticated")
          .setExpirationTime("1h")
          .sign(key),
    ],
    ["garbage", async () => "not.a.jwt"],
  ])("refuses %s", async (_name, make) => {
    await expect(verifySessionToken(await make(), key)).rejects.toMatchObject({ code: "unauthorized" });
  });
});
