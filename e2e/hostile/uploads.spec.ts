import crypto from "node:crypto";
import { test, expect, type APIRequestContext } from "@playwright/test";
import {
  answerOf,
  bearer,
  collectProblems,
  expectError,
  fixture,
  problemWith,
  raw,
  sha256,
  slugFor,
  startTusUpload,
  TUS,
  tusMetadata,
  type DemoUser,
} from "./helpers";

// Resumable-upload abuse (issue 10 §2, §6). Only the user who created a tus upload may HEAD, PATCH or
// DELETE it; ids are validated by format; another user's id, a malformed id and an unknown id are all
// the same 404 — and afterwards the owner's upload is intact and finishes. Wrong offsets and lengths
// are refused without damage, and the Location never follows X-Forwarded-Host.

const BODY = fixture("price_optimization_v1.3.pkl");
const HALF = 40_000;
const patchHeaders = (auth: Record<string, string>, offset: number | string) => ({
  ...auth,
  ...TUS,
  "upload-offset": String(offset),
  "content-type": "application/offset+octet-stream",
});

/** The owner's view: still there, at `offset`, and it finishes into a ready version with the right hash. */
async function expectIntactAndFinish(request: APIRequestContext, owner: DemoUser, uploadPath: string, offset: number, model: string) {
  const auth = bearer(owner);
  const head = await request.head(uploadPath, { headers: { ...auth, ...TUS } });
  expect(head.status(), `the owner's HEAD of ${uploadPath}`).toBe(200);
  expect(head.headers()["upload-offset"]).toBe(String(offset));
  expect(head.headers()["upload-length"]).toBe(String(BODY.length));
  const done = await request.patch(uploadPath, { headers: patchHeaders(auth, offset), data: BODY.subarray(offset) });
  expect(done.status(), await done.text()).toBe(200);
  expect(await done.json()).toMatchObject({ sha256: sha256(BODY), size_bytes: BODY.length, status: "ready" });
  const v = await request.get(`/api/v1/orgs/demo_org/models/${model}/versions/1.0`, { headers: auth });
  expect(v.status()).toBe(200);
}

test.describe("resumable upload abuse", () => {
  test("other users' HEAD, PATCH and DELETE on an upload answer 404, and the upload stays intact", async ({ request }) => {
    const model = slugFor("tusown");
    const uploadPath = await startTusUpload(request, bearer("bob"), model, BODY, HALF);
    const id = uploadPath.split("/").pop()!;
    const problems: string[] = [];
    for (const user of ["vera", "alice", "carol", "sam"] as DemoUser[]) {
      const auth = bearer(user);
      for (const p of [uploadPath, `${uploadPath}.json`, `/api/v1/uploads/${id.toUpperCase()}`, `${uploadPath}%2f`]) {
        const head = await raw({ method: "HEAD", path: p, headers: { ...auth, ...TUS } });
        problems.push(problemWith(`${user} HEAD ${p}`, head, { status: [404], json: false }) ?? "");
        if (head.headers["upload-offset"]) problems.push(`${user} HEAD ${p} shows the offset`);
        problems.push(
          problemWith(
            `${user} PATCH ${p}`,
            await raw({ method: "PATCH", path: p, headers: patchHeaders(auth, HALF), body: "x".repeat(64) }),
            { status: [404], code: ["not_found"], contentType: false },
          ) ?? "",
        );
        problems.push(
          problemWith(`${user} DELETE ${p}`, await raw({ method: "DELETE", path: p, headers: { ...auth, ...TUS } }), {
            status: [404],
            code: ["not_found"],
            contentType: false,
          }) ?? "",
        );
      }
    }
    expect(problems.filter(Boolean)).toEqual([]);
    await expectIntactAndFinish(request, "bob", uploadPath, HALF, model);
  });

  test("malformed and unknown upload ids are a 404 in the JSON shape, even for the owner's own id with a suffix", async ({ request }) => {
    const model = slugFor("tusids");
    const uploadPath = await startTusUpload(request, bearer("bob"), model, BODY, HALF);
    const id = uploadPath.split("/").pop()!;
    const bob = bearer("bob");
    const ids = [
      crypto.randomBytes(16).toString("hex"),
      "nope",
      "..%2f..%2fstorage",
      "a%00b",
      "%00",
      "x".repeat(300),
      `${id}.json`,
      `${id}.info`,
      `${id}%00`,
      `${id}%20`,
      "%2a",
      "%5c..%5c..",
      "tmp",
    ];
    const problems: string[] = [];
    for (const x of ids) {
      const p = `/api/v1/uploads/${x}`;
      problems.push(
        problemWith(`HEAD ${p}`, await raw({ method: "HEAD", path: p, headers: { ...bob, ...TUS } }), { status: [404], json: false }) ?? "",
      );
      problems.push(
        problemWith(`PATCH ${p}`, await raw({ method: "PATCH", path: p, headers: patchHeaders(bob, HALF), body: "y".repeat(64) }), {
          status: [404],
          code: ["not_found"],
          contentType: false,
        }) ?? "",
      );
      problems.push(
        problemWith(`DELETE ${p}`, await raw({ method: "DELETE", path: p, headers: { ...bob, ...TUS } }), {
          status: [404],
          code: ["not_found"],
          contentType: false,
        }) ?? "",
      );
    }
    expect(problems.filter(Boolean)).toEqual([]);
    await expectIntactAndFinish(request, "bob", uploadPath, HALF, model);
  });

  test("wrong offsets, over-length bodies and wrong content types are refused and leave the upload intact", async ({ request }) => {
    const model = slugFor("tusoffset");
    const uploadPath = await startTusUpload(request, bearer("bob"), model, BODY, HALF);
    const bob = bearer("bob");
    const tail = BODY.subarray(HALF);
    const cases: [string, Record<string, string>, Buffer, number[]][] = [
      ["offset 0 (behind)", patchHeaders(bob, 0), tail, [409]],
      ["offset ahead", patchHeaders(bob, HALF + 10), tail, [409]],
      ["offset beyond the length", patchHeaders(bob, BODY.length + 1), tail, [409, 400]],
      ["negative offset", patchHeaders(bob, -1), tail, [400, 409]],
      ["non-numeric offset", patchHeaders(bob, "abc"), tail, [400]],
      ["fractional offset", patchHeaders(bob, "40000.5"), tail, [400]],
      ["no offset", { ...bob, ...TUS, "content-type": "application/offset+octet-stream" }, tail, [400, 403]],
      ["wrong content type", { ...patchHeaders(bob, HALF), "content-type": "text/plain" }, tail, [415, 400]],
      ["more bytes than the upload's length", patchHeaders(bob, HALF), Buffer.concat([tail, Buffer.alloc(4096, 1)]), [413, 400]],
      ["no Tus-Resumable", { ...bob, "upload-offset": String(HALF), "content-type": "application/offset+octet-stream" }, tail, [412]],
      ["an unsupported Tus-Resumable", { ...patchHeaders(bob, HALF), "tus-resumable": "0.2.2" }, tail, [400, 412]],
    ];
    const problems = await collectProblems(cases, async ([label, headers, body, status]) =>
      problemWith(`PATCH with ${label}`, await raw({ method: "PATCH", path: uploadPath, headers, body }), { status, json: false }),
    );
    expect(problems).toEqual([]);
    await expectIntactAndFinish(request, "bob", uploadPath, HALF, model);
  });

  test("tus errors — the protocol's and our own hooks' — answer in our JSON error shape, as application/json", async ({ request }) => {
    const bob = bearer("bob");
    const model = slugFor("tusjson");
    const theirs = await startTusUpload(request, bearer("alice"), slugFor("tusjsonalice"), BODY, 0);
    const cases: [string, string, Record<string, string>, number[], string?][] = [
      ["another user's upload", "PATCH", patchHeaders(bob, 0), [404], theirs],
      [
        "a viewer's create",
        "POST",
        {
          ...bearer("vera"),
          ...TUS,
          "upload-length": "10",
          "upload-metadata": tusMetadata({ org: "demo_org", model, version: "1.0", filename: "m.pkl" }),
        },
        [403],
      ],
      [
        "an anonymous create",
        "POST",
        { ...TUS, "upload-length": "10", "upload-metadata": tusMetadata({ org: "demo_org", model, version: "1.0", filename: "m.pkl" }) },
        [401],
      ],
      [
        "no Tus-Resumable",
        "POST",
        { ...bob, "upload-length": "10", "upload-metadata": tusMetadata({ org: "demo_org", model, version: "1.0", filename: "m.pkl" }) },
        [412],
      ],
      [
        "a bad Upload-Length",
        "POST",
        {
          ...bob,
          ...TUS,
          "upload-length": "abc",
          "upload-metadata": tusMetadata({ org: "demo_org", model, version: "1.0", filename: "m.pkl" }),
        },
        [400],
      ],
      [
        "a 6 GiB Upload-Length",
        "POST",
        {
          ...bob,
          ...TUS,
          "upload-length": String(6 * 1024 ** 3),
          "upload-metadata": tusMetadata({ org: "demo_org", model, version: "1.0", filename: "m.pkl" }),
        },
        [413],
      ],
      ["an unknown id", "PATCH", patchHeaders(bob, 0), [404]],
    ];
    const problems = await collectProblems(cases, async ([label, method, headers, status, path]) =>
      problemWith(
        `tus ${label}`,
        await raw({
          method,
          path: path ?? (method === "POST" ? "/api/v1/uploads" : `/api/v1/uploads/${crypto.randomBytes(16).toString("hex")}`),
          headers,
          body: method === "PATCH" ? "x" : undefined,
        }),
        { status },
      ),
    );
    expect(problems).toEqual([]);
  });

  test("the Location of a new upload never follows X-Forwarded-Host, X-Forwarded-Proto or Forwarded", async () => {
    const bob = bearer("bob");
    const ours = new URL(test.info().project.use.baseURL!).host;
    const spoofs: Record<string, string>[] = [
      { "x-forwarded-host": "evil.example" },
      { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" },
      { forwarded: "host=evil.example;proto=https" },
      { "x-forwarded-host": `${ours}.evil.example` },
    ];
    const problems: string[] = [];
    for (const spoof of spoofs) {
      const model = slugFor("tusloc");
      const a = await raw({
        method: "POST",
        path: "/api/v1/uploads",
        headers: {
          ...bob,
          ...TUS,
          ...spoof,
          "upload-length": String(BODY.length),
          "upload-metadata": tusMetadata({ org: "demo_org", model, version: "1.0", filename: "m.pkl" }),
        },
      });
      if (a.status !== 201) {
        problems.push(`create with ${JSON.stringify(spoof)} → ${a.status} ${a.body}`);
        continue;
      }
      const location = a.headers["location"] ?? "";
      let url: URL | undefined;
      try {
        url = new URL(location, `http://${ours}`);
      } catch {
        problems.push(`${JSON.stringify(spoof)} → an unusable Location: ${location}`);
      }
      if (url && (url.host !== ours || location.includes("evil.example"))) problems.push(`${JSON.stringify(spoof)} → Location ${location}`);
      const id = /\/api\/v1\/uploads\/([0-9a-f]+)/.exec(location)?.[1];
      if (id) await raw({ method: "DELETE", path: `/api/v1/uploads/${id}`, headers: { ...bob, ...TUS } });
    }
    expect(problems).toEqual([]);
  });

  test("cancelling releases the version; a cancelled id is gone", async ({ request }) => {
    const model = slugFor("tuscancel");
    const uploadPath = await startTusUpload(request, bearer("bob"), model, BODY, HALF);
    expect((await request.delete(uploadPath, { headers: { ...bearer("bob"), ...TUS } })).status()).toBe(204);
    expect((await request.head(uploadPath, { headers: { ...bearer("bob"), ...TUS } })).status()).toBe(404);
    const gone = { status: [404, 410], code: ["not_found"], contentType: false };
    expect(
      problemWith(
        "PATCH a cancelled upload",
        await raw({ method: "PATCH", path: uploadPath, headers: patchHeaders(bearer("bob"), HALF), body: BODY.subarray(HALF) }),
        gone,
      ),
    ).toBeNull();
    expect(
      problemWith(
        "DELETE a cancelled upload",
        await raw({ method: "DELETE", path: uploadPath, headers: { ...bearer("bob"), ...TUS } }),
        gone,
      ),
    ).toBeNull();
    const again = await request.put(`/api/v1/orgs/demo_org/models/${model}/versions/1.0?filename=m.pkl`, {
      headers: bearer("bob"),
      data: BODY,
    });
    expect(again.status(), await again.text()).toBe(201);
  });

  test("a duplicate create is refused before any byte, and a second upload of a version in flight is a 409", async ({ request }) => {
    const model = slugFor("tusdup");
    await startTusUpload(request, bearer("bob"), model, BODY, HALF);
    const dup = await request.post("/api/v1/uploads", {
      headers: {
        ...bearer("bob"),
        ...TUS,
        "upload-length": String(BODY.length),
        "upload-metadata": tusMetadata({ org: "demo_org", model, version: "1.0", filename: "m.pkl" }),
      },
    });
    expect(
      problemWith("a duplicate tus create", await answerOf(dup), { status: [409], code: ["conflict"], contentType: false }),
    ).toBeNull();
    await expectError(
      await request.put(`/api/v1/orgs/demo_org/models/${model}/versions/1.0?filename=m.pkl`, { headers: bearer("alice"), data: BODY }),
      409,
      "conflict",
    );
  });

  test("reservations: other users', unknown and malformed ids are the same 404, and the owner can still release", async ({ request }) => {
    const model = slugFor("resv");
    const r = await request.post("/api/v1/uploads/reservations", {
      headers: bearer("bob"),
      data: { org: "demo_org", model, version: "1.0", filename: "m.pkl", size: BODY.length },
    });
    expect(r.status(), await r.text()).toBe(201);
    const { id } = await r.json();
    const problems: string[] = [];
    const targets = [
      id,
      crypto.randomUUID(),
      "not-a-uuid",
      "00000000-0000-0000-0000-00000000000g",
      "%00",
      "1",
      `${id}%00`,
      "x".repeat(300),
    ];
    for (const user of ["vera", "alice", "carol", "bob"] as DemoUser[]) {
      for (const t of targets) {
        if (user === "bob" && t === id) continue;
        for (const [method, suffix, body] of [
          ["DELETE", "", undefined],
          ["POST", "/complete", "{}"],
        ] as const) {
          const a = await raw({
            method,
            path: `/api/v1/uploads/reservations/${t}${suffix}`,
            headers: { ...bearer(user), "content-type": "application/json" },
            body,
          });
          const p = problemWith(`${user} ${method} reservation ${t.slice(0, 40)}${suffix}`, a, { status: [404], code: ["not_found"] });
          if (p) problems.push(p);
        }
      }
    }
    expect(problems).toEqual([]);
    expect((await request.delete(`/api/v1/uploads/reservations/${id}`, { headers: bearer("bob") })).status()).toBe(204);
    const put = await request.put(`/api/v1/orgs/demo_org/models/${model}/versions/1.0?filename=m.pkl`, {
      headers: bearer("bob"),
      data: BODY,
    });
    expect(put.status(), await put.text()).toBe(201);
  });
});
