import crypto from "node:crypto";
import { test, expect, type APIRequestContext } from "@playwright/test";
import { signUp, timedSignIn, uid, type Answer } from "./helpers";

// OWASP API6:2023 Unrestricted Access to Sensitive Business Flows: password guessing. Issue 10 §4:
// the throttle must slow attackers down but never lock the account's owner out, and must not trust
// X-Forwarded-For (or X-Real-IP / Forwarded) unless the request comes from TRUSTED_PROXIES — empty by
// default, so here the client's address is this machine's, whatever the headers say.
// Every test uses its own throwaway accounts; the demo users were signed in before (hostile.setup.ts).

test.describe.configure({ timeout: 180_000 });

const nobody = () => `nobody-${uid()}@hostile.test`;
const spoof = (ip: string) => ({ "x-forwarded-for": ip, "x-real-ip": ip, forwarded: `for=${ip}` });
const randomIp = () => `198.51.100.${crypto.randomInt(1, 255)}`;
const slowedOrRefused = (a: Answer, baseline: number, byMs: number) => a.status === 429 || a.ms >= baseline + byMs;

async function wrongPasswords(
  request: APIRequestContext,
  n: number,
  email: () => string,
  headers: () => Record<string, string> = () => ({}),
) {
  const answers: Answer[] = [];
  for (let i = 0; i < n; i++) answers.push(await timedSignIn(request, email(), "not-the-password", headers()));
  return answers;
}

const describe = (answers: Answer[]) => answers.map((a) => `${a.status}/${Math.round(a.ms)}ms`).join(" ");

test.describe("sign-in throttling (API6)", () => {
  test("a wrong password and an unknown e-mail get the same answer", async ({ request }) => {
    const account = await signUp(request, "enum");
    const wrong = await timedSignIn(request, account.email, "not-the-password");
    const unknown = await timedSignIn(request, nobody(), "not-the-password");
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toBe(wrong.body);
    expect((await timedSignIn(request, account.email, account.password)).status).toBe(200);
  });

  test("repeated wrong passwords for one account get slower", async ({ request }) => {
    const account = await signUp(request, "slow");
    const answers = await wrongPasswords(request, 7, () => account.email);
    const baseline = Math.min(answers[0]!.ms, answers[1]!.ms);
    expect(
      answers.every((a) => a.status === 401 || a.status === 429),
      describe(answers),
    ).toBe(true);
    expect(slowedOrRefused(answers[6]!, baseline, 800), `7th wrong password not slowed: ${describe(answers)}`).toBe(true);
    expect((await timedSignIn(request, account.email, account.password)).status).toBe(200);
  });

  test("after a dozen wrong passwords, the account's owner still signs in with the right one", async ({ request }) => {
    const account = await signUp(request, "owner");
    const answers = await wrongPasswords(request, 12, () => account.email);
    const mine = await timedSignIn(request, account.email, account.password);
    expect(mine.status, `the owner was refused after: ${describe(answers)} → ${mine.status} ${mine.body}`).toBe(200);
  });

  test("spoofing the victim's address in X-Forwarded-For does not lock the victim out", async ({ request }) => {
    const victim = await signUp(request, "victim");
    const victimIp = randomIp();
    const answers = await wrongPasswords(request, 12, nobody, () => spoof(victimIp));
    const mine = await timedSignIn(request, victim.email, victim.password, spoof(victimIp));
    expect(mine.status, `the victim was refused after ${describe(answers)} → ${mine.status} ${mine.body}`).toBe(200);
  });

  test("rotating X-Forwarded-For, X-Real-IP and Forwarded does not escape the per-address limit", async ({ request }) => {
    // Credential stuffing: one guess per account, a fresh forged address each time. Earlier tests may
    // already have slowed this address down (it is shared by the whole suite), so the bar is absolute:
    // an unthrottled wrong password answers in ~100 ms; the last guesses must wait over a second.
    const answers = await wrongPasswords(request, 25, nobody, () => spoof(randomIp()));
    const tail = answers.slice(-2);
    expect(
      tail.every((a) => slowedOrRefused(a, 0, 1000)),
      `not slowed: ${describe(answers)}`,
    ).toBe(true);
    // And this machine's own users are not locked out by it.
    const account = await signUp(request, "after-stuffing");
    expect((await timedSignIn(request, account.email, account.password)).status).toBe(200);
  });

  test("a burst of parallel wrong passwords is throttled like a sequence", async ({ request }) => {
    const account = await signUp(request, "burst");
    const t = performance.now();
    const answers = await Promise.all(Array.from({ length: 15 }, () => timedSignIn(request, account.email, `wrong-${uid()}`)));
    const slowest = Math.max(...answers.map((a) => a.ms));
    expect(
      answers.some((a) => a.status === 429) || slowest >= 6000,
      `15 parallel guesses all answered within ${Math.round(performance.now() - t)} ms: ${describe(answers)}`,
    ).toBe(true);
    expect(
      answers.every((a) => a.status === 401 || a.status === 429),
      describe(answers),
    ).toBe(true);
    expect((await timedSignIn(request, account.email, account.password)).status).toBe(200);
  });
});
