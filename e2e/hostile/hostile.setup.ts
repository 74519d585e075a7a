import fs from "node:fs";
import { test as setup, expect } from "@playwright/test";
import { PASSWORD, USERS, projectMeta, sessionsFile, type DemoUser, type Session } from "./helpers";

// Signs every demo user in once per server, before any hostile spec runs: the sign-in throttling
// specs hammer the sign-in route from this machine's address, and must not stop the others.
setup("sign in the demo users", async ({ request }) => {
  const sessions = {} as Record<DemoUser, Session>;
  for (const [user, email] of Object.entries(USERS) as [DemoUser, string][]) {
    const r = await request.post("/api/v1/auth/sign-in", { data: { email, password: PASSWORD } });
    expect(r.status(), `sign in ${email}: ${await r.text()}`).toBe(200);
    const body = (await r.json()) as { access_token: string; user: { id: string } };
    sessions[user] = { token: body.access_token, userId: body.user.id, email };
  }
  fs.mkdirSync("e2e/.auth", { recursive: true });
  fs.writeFileSync(sessionsFile(projectMeta().mode), JSON.stringify(sessions, null, 2));
});
