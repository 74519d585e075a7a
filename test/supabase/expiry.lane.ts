// Access tokens expire (Supabase's default is one hour) while big uploads are still running.
import { describe, expect, it } from "vitest";
import {
  api,
  ctx,
  lane,
  nextVersion,
  putVersion,
  safetensors,
  show,
  title,
  tokenFor,
  tusUpload,
  versionStatus,
  CHUNK,
} from "./support/lane";

const MODEL = "expiry";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A body that sends `first` bytes at once, then waits `pauseMs`, then the rest. */
function pausedBody(data: Buffer, first: number, pauseMs: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= data.length) return controller.close();
      if (sent === first) await sleep(pauseMs);
      const end = sent < first ? first : Math.min(sent + 1024 * 1024, data.length);
      controller.enqueue(new Uint8Array(data.subarray(sent, end)));
      sent = end;
    },
  });
}

describe.skipIf(!lane)(title("access tokens that expire during an upload"), () => {
  it("a token that expires in the middle of a PUT does not break the upload: the app re-mints one for the same user", async () => {
    const c = ctx();
    const v = nextVersion();
    const data = safetensors(3 * CHUNK + 1000);
    const short = await tokenFor("member", { ttlSeconds: 6 });
    // Past the first tus chunk at once, then wait until the token is dead.
    const a = await putVersion(short, c.orgA.slug, MODEL, v, pausedBody(data, CHUNK + 512 * 1024, 9000), { length: data.length });
    expect(a.status, show(a)).toBe(201);
    expect(await versionStatus(c.orgA.slug, MODEL, v)).toBe("ready");
  });

  it("a request whose token has already expired reads as an expired session (401), and blocks nothing", async () => {
    const c = ctx();
    const v = nextVersion();
    const dead = await tokenFor("member", { ttlSeconds: 1 });
    await sleep(2500);
    const a = await putVersion(dead, c.orgA.slug, MODEL, v, safetensors(64 * 1024));
    expect(a.status, show(a)).toBe(401);
    expect(await versionStatus(c.orgA.slug, MODEL, v)).toBeUndefined();
    const again = await putVersion(await tokenFor("member"), c.orgA.slug, MODEL, v, safetensors(64 * 1024));
    expect(again.status, show(again)).toBe(201);
  });

  it("Storage refuses a tus chunk sent with an expired token (what the app has to handle)", async () => {
    const c = ctx();
    const { reservation } = await (async () => {
      const token = await tokenFor("owner");
      const r = await api("/api/v1/uploads/reservations", {
        token,
        json: { org: c.orgA.slug, model: MODEL, version: nextVersion(), filename: "m.safetensors", size: 2 * CHUNK },
      });
      expect(r.status, show(r)).toBe(201);
      return { reservation: r.json as { object_key: string } };
    })();
    const short = await tokenFor("owner", { ttlSeconds: 4 });
    const out = await tusUpload({
      key: reservation.object_key,
      data: safetensors(2 * CHUNK),
      token: short,
      beforeRequest: async (i) => {
        if (i === 2) await sleep(6000);
      },
    }).catch((e: NodeJS.ErrnoException) => {
      // The refusal can also cut the connection before its answer reaches us: our write of the
      // 6 MiB chunk meets the closed socket first (EPIPE/ECONNRESET; seen 1 run in 10 or so).
      if (e.code === "EPIPE" || e.code === "ECONNRESET") return null;
      throw e;
    });
    if (!out) return;
    expect(out.ok).toBe(false);
    // Storage refuses before reading the chunk and closes its socket; the lane's gateway (like a real
    // one that streams request bodies) then sometimes loses that answer and says 502 of its own —
    // the same loss the app's adapter settles by looking at the key (supabase-wiring.test.ts).
    const last = out.steps.at(-1)!;
    expect([400, 502], show(out.last)).toContain(last.status);
    if (last.status === 400) expect(JSON.parse(out.last.text)).toMatchObject({ statusCode: "403", code: "AccessDenied" });
    else expect(out.last.text).toMatch(/gateway: upstream failed/);
  });
});
