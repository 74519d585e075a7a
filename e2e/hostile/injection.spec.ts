import { test, expect } from "@playwright/test";
import { b64, bearer, collectProblems, fixture, problemWith, raw, slugFor, TUS, tusMetadata, uploadVersion, type Want } from "./helpers";

// Path and key injection, NUL bytes and invalid UTF-8, malformed cursors. Issue 10 §7: a NUL in the
// org slug or in JSON text, or a malformed cursor, answered 500 "invalid byte sequence". Every bad
// input is a 4xx in our JSON shape (cursors: 400), nothing is written outside ai-models/<org>/, and
// no answer shows a path, a stack trace or SQL.

/** Hostile path segments, as raw (already percent-encoded) bytes on the request line. */
const SEGMENTS = [
  "%00",
  "a%00b",
  "demo_org%00",
  "%0a",
  "a%0d%0aSet-Cookie:%20x=1",
  "%ff",
  "%c0%ae%c0%ae",
  "%e2%80%ae",
  "%ef%bc%8e%ef%bc%8e",
  "%e2%88%95etc",
  "%25%32%65%25%32%65",
  "..%2f..%2fetc%2fpasswd",
  "..%5c..%5cwindows",
  "a%5cb",
  "%5c%5cserver%5cshare",
  "%2fetc%2fpasswd",
  "x".repeat(300),
  "A%20B",
  "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
  "'%20or%201=1--",
  "$(id)",
  "%7B%7D",
  "CON",
  "a;b",
  "%C3%A9",
  "%F0%9F%A4%96",
  "%ED%A0%80",
];
/** Dot segments are resolved by URL parsers (RFC 3986); only used where more path follows. */
const DOTS = ["..", "%2e%2e", "%2E%2E", ".%2e", "%2e."];

const NOT_FOUND_OR_INVALID: Want = { status: [400, 404, 422] };

test.describe("path and key injection", () => {
  let model: string;
  test.beforeAll(async ({ playwright }) => {
    const request = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL });
    model = slugFor("inject");
    await uploadVersion(request, bearer("bob"), { model, version: "1.0" });
    await request.dispose();
  });

  test("hostile values in every path segment of every endpoint are a 4xx, never a 5xx", async () => {
    const bob = bearer("bob");
    const json = { ...bob, "content-type": "application/json" };
    const onnx = fixture("churn_model_v1.onnx");
    // {x} is where the hostile segment goes; a trailing {x} gets no dot segments.
    const templates: [string, string, Record<string, string>, (string | Buffer)?][] = [
      ["GET", "/api/v1/orgs/{x}/models", bob],
      ["POST", "/api/v1/orgs/{x}/models", json, '{"name":"inj","task_type":"other"}'],
      ["GET", "/api/v1/orgs/{x}/usage", bob],
      ["GET", "/api/v1/orgs/{x}/audit", bob],
      ["GET", "/api/v1/orgs/demo_org/models/{x}", bob],
      ["PATCH", "/api/v1/orgs/demo_org/models/{x}", json, '{"description":"inj"}'],
      // alice: a member's DELETE is refused by role before the slug is looked at.
      ["DELETE", "/api/v1/orgs/demo_org/models/{x}", bearer("alice")],
      ["GET", "/api/v1/orgs/demo_org/models/{x}/versions", bob],
      ["GET", "/api/v1/orgs/demo_org/models/{x}/aliases", bob],
      ["PUT", "/api/v1/orgs/demo_org/models/{x}/versions/1.0?filename=m.onnx", bob, onnx],
      ["GET", "/api/v1/orgs/demo_org/models/MODEL/versions/{x}", bob],
      ["DELETE", "/api/v1/orgs/demo_org/models/MODEL/versions/{x}", bob],
      ["PUT", "/api/v1/orgs/demo_org/models/MODEL/versions/{x}?filename=m.onnx", bob, onnx],
      ["GET", "/api/v1/orgs/demo_org/models/MODEL/versions/{x}/download", bob],
      ["POST", "/api/v1/orgs/demo_org/models/MODEL/versions/{x}/link", bob],
      ["PUT", "/api/v1/orgs/demo_org/models/MODEL/aliases/{x}", json, '{"version":"1.0"}'],
      ["DELETE", "/api/v1/tokens/{x}", bob],
      ["GET", "/api/v1/links/{x}", {}],
      ["DELETE", "/api/v1/uploads/reservations/{x}", bob],
      ["POST", "/api/v1/uploads/reservations/{x}/complete", json, "{}"],
    ];
    const cases = templates.flatMap(([method, t, headers, body]) => {
      // "reservations/../complete" resolves to the tus endpoint: not a hostile id any more.
      const trailing = t.replace(/\?.*$/, "").endsWith("{x}") || t.includes("reservations/{x}");
      return [...SEGMENTS, ...(trailing ? [] : DOTS)].map(
        (x) => [method, t.replace("MODEL", model).replace("{x}", x), headers, body] as const,
      );
    });
    const problems = await collectProblems(cases, async ([method, p, headers, body]) => {
      const want = p.startsWith("/api/v1/links/") ? { status: [400, 401, 404, 422] } : NOT_FOUND_OR_INVALID;
      return problemWith(`${method} ${p}`, await raw({ method, path: p, headers, body }), want);
    });
    expect(problems).toEqual([]);
    // And nothing was created or changed under a hostile name.
    const list = await raw({ method: "GET", path: `/api/v1/orgs/demo_org/models?q=inj&limit=200`, headers: bob });
    expect(JSON.parse(list.body).items.filter((m: { name: string; slug: string }) => m.name === "inj")).toEqual([]);
  });

  test("hostile values in every query parameter are a 200 or a 4xx, never a 5xx", async () => {
    const bob = bearer("bob");
    const values = [
      "%00",
      "a%00b",
      "%ff%fe",
      "%c0%80",
      "%ed%a0%80",
      "%0d%0aSet-Cookie:%20x=1",
      "%27%3B--",
      "%3Cimg%20src=x%20onerror=alert(1)%3E",
      "x".repeat(3000),
      "%E2%80%AE",
      "[]",
      "%7B%22a%22:1%7D",
      "-1",
      "1e308",
      "NaN",
      "2024-02-30",
      "0",
      "99999-12-31",
      "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "%5C%5C",
      "true",
    ];
    const params: [string, string][] = [
      ...["q", "framework", "type", "tag", "verdict", "sort", "cursor", "limit"].map(
        (k) => [`/api/v1/orgs/demo_org/models`, k] as [string, string],
      ),
      ...["actor", "action", "model", "from", "to", "cursor", "limit", "format"].map(
        (k) => [`/api/v1/orgs/demo_org/audit`, k] as [string, string],
      ),
      ["/api/v1/tokens", "org"],
      [`/api/v1/orgs/demo_org/models/MODEL/versions/1.0/download`, "acknowledge_risk"],
    ];
    const cases = params.flatMap(([p, k]) => values.map((v) => `${p}?${k}=${v}`));
    const problems = await collectProblems(cases, async (p) =>
      problemWith(`GET ${p.slice(0, 140)}`, await raw({ method: "GET", path: p.replace("MODEL", model), headers: bob }), {
        status: [200, 400, 404, 422],
      }),
    );
    // Repeated and odd parameters.
    for (const p of [
      "/api/v1/orgs/demo_org/models?limit=1&limit=500",
      "/api/v1/orgs/demo_org/models?sort=name&sort=size",
      "/api/v1/orgs/demo_org/models?cursor[]=x",
      "/api/v1/orgs/demo_org/audit?from=2030-01-01&to=2020-01-01",
      "/api/v1/tokens?org=demo_org&org=admin_org",
    ]) {
      const a = await raw({ method: "GET", path: p, headers: bob });
      const problem = problemWith(`GET ${p}`, a, { status: [200, 400, 404, 422] });
      if (problem) problems.push(problem);
      if (p.includes("org=admin_org") && a.status === 200 && a.body.includes("admin_org")) problems.push(`${p} shows admin_org's tokens`);
    }
    expect(problems).toEqual([]);
  });

  test("client file names never steer the object key: it is always <org>/<model>_v<version>.<ext>", async () => {
    const bob = bearer("bob");
    const slug = slugFor("names");
    const onnx = fixture("churn_model_v1.onnx");
    const names = [
      "..%2f..%2fevil.onnx",
      "..%5c..%5cevil.onnx",
      "%2fetc%2fpasswd.onnx",
      "evil.onnx%00.exe",
      "evil.exe%00.onnx",
      "evil%0a.onnx",
      "%e2%80%aexnno.exe",
      "CON.onnx",
      ".onnx",
      "..onnx",
      `${"a".repeat(300)}.onnx`,
      "%ef%bc%8e%ef%bc%8e%ef%bc%8fevil.onnx",
      "model.ONNX",
      "model.onnx.",
      "model.onnx%20",
      "%3Csvg%20onload=alert(1)%3E.onnx",
      "demo_org%2f..%2fadmin_org%2fx.onnx",
    ];
    let n = 0;
    const problems = await collectProblems(names, async (name) => {
      const version = `1.${n++}`;
      const a = await raw({
        method: "PUT",
        path: `/api/v1/orgs/demo_org/models/${slug}/versions/${version}?filename=${name}`,
        headers: bob,
        body: onnx,
      });
      if (a.status === 201) {
        const v = JSON.parse(a.body) as { file_count: number; file_name: string };
        if (v.file_count !== 1) return `filename ${name} → ${v.file_count} files`;
        if (/[\u0000-\u001f/\\]/.test(v.file_name)) return `filename ${name} kept as ${JSON.stringify(v.file_name)}`;
        return null;
      }
      return problemWith(`filename ${name}`, a, { status: [400, 415, 422] });
    });
    expect(problems).toEqual([]);
  });
});

test.describe("NUL bytes, invalid UTF-8 and odd Unicode in text", () => {
  const TEXTS: [string, string][] = [
    ["a NUL", "a\u0000b"],
    ["only a NUL", "\u0000"],
    ["a lone surrogate", "bad \ud800 surrogate"],
    ["a right-to-left override", "\u202egnp.exe"],
    ["terminal escapes", "ctrl \u0007\u001b[31m red"],
    ["a 4-byte emoji", "robot \u{1F916}"],
    ["a byte-order mark", "\ufeffbom"],
  ];

  test("JSON text fields with hostile text are stored safely or refused with a 4xx", async () => {
    const bob = bearer("bob");
    const json = { ...bob, "content-type": "application/json" };
    const slug = slugFor("nul");
    await raw({
      method: "POST",
      path: "/api/v1/orgs/demo_org/models",
      headers: json,
      body: JSON.stringify({ name: "NUL target", slug, task_type: "other" }),
    });
    const cases = TEXTS.flatMap(([what, text]) => [
      [
        `model name with ${what}`,
        "POST",
        "/api/v1/orgs/demo_org/models",
        JSON.stringify({ name: text, slug: slugFor("n"), task_type: "other" }),
      ],
      [
        `model description with ${what}`,
        "POST",
        "/api/v1/orgs/demo_org/models",
        JSON.stringify({ name: "desc", slug: slugFor("d"), description: text, task_type: "other" }),
      ],
      [
        `model framework with ${what}`,
        "POST",
        "/api/v1/orgs/demo_org/models",
        JSON.stringify({ name: "fw", slug: slugFor("f"), framework: text, task_type: "other" }),
      ],
      [`model slug with ${what}`, "POST", "/api/v1/orgs/demo_org/models", JSON.stringify({ name: "slug", slug: text, task_type: "other" })],
      [
        `model tag with ${what}`,
        "POST",
        "/api/v1/orgs/demo_org/models",
        JSON.stringify({ name: "tag", slug: slugFor("t"), tags: [text], task_type: "other" }),
      ],
      [`edited name with ${what}`, "PATCH", `/api/v1/orgs/demo_org/models/${slug}`, JSON.stringify({ name: text })],
      [`edited description with ${what}`, "PATCH", `/api/v1/orgs/demo_org/models/${slug}`, JSON.stringify({ description: text })],
      [`token name with ${what}`, "POST", "/api/v1/tokens", JSON.stringify({ org: "demo_org", name: text, role: "viewer" })],
      [`token org with ${what}`, "POST", "/api/v1/tokens", JSON.stringify({ org: `demo_org${text}`, name: "t", role: "viewer" })],
      [`alias version with ${what}`, "PUT", `/api/v1/orgs/demo_org/models/${slug}/aliases/hx`, JSON.stringify({ version: `1.0${text}` })],
      [
        `reservation file name with ${what}`,
        "POST",
        "/api/v1/uploads/reservations",
        JSON.stringify({ org: "demo_org", model: slugFor("res"), version: "1.0", filename: `${text}.pkl`, size: 10 }),
      ],
      [
        `reservation metadata name with ${what}`,
        "POST",
        "/api/v1/uploads/reservations",
        JSON.stringify({ org: "demo_org", model: slugFor("res"), version: "1.0", filename: "m.pkl", size: 10, metadata: { name: text } }),
      ],
      [`sign-in e-mail with ${what}`, "POST", "/api/v1/auth/sign-in", JSON.stringify({ email: `a${text}@hostile.test`, password: "x" })],
      [
        `sign-in password with ${what}`,
        "POST",
        "/api/v1/auth/sign-in",
        JSON.stringify({ email: `nul-probe-${Date.now()}${Math.random()}@hostile.test`, password: text }),
      ],
    ]);
    const problems = await collectProblems(cases, async ([label, method, p, body]) =>
      problemWith(
        label!,
        await raw({
          method: method!,
          path: p!,
          headers: p!.includes("sign-in") ? { "content-type": "application/json" } : json,
          body: Buffer.from(body!, "utf8"),
        }),
        { status: [200, 201, 400, 401, 404, 422, ...(p!.includes("sign-in") ? [429] : [])] },
      ),
    );
    // Raw bytes that are not UTF-8 at all.
    for (const [label, bytes] of [
      [
        "invalid UTF-8 in a model name",
        Buffer.concat([
          Buffer.from('{"name":"'),
          Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
          Buffer.from(`","slug":"${slugFor("u")}","task_type":"other"}`),
        ]),
      ],
      [
        "an overlong NUL in a model name",
        Buffer.concat([
          Buffer.from('{"name":"x'),
          Buffer.from([0xc0, 0x80]),
          Buffer.from(`","slug":"${slugFor("o")}","task_type":"other"}`),
        ]),
      ],
      ["a UTF-16 body", Buffer.from(`{"name":"utf16","slug":"${slugFor("w")}","task_type":"other"}`, "utf16le")],
    ] as const) {
      const problem = problemWith(label, await raw({ method: "POST", path: "/api/v1/orgs/demo_org/models", headers: json, body: bytes }), {
        status: [201, 400, 415, 422],
      });
      if (problem) problems.push(problem);
    }
    expect(problems).toEqual([]);
    // Whatever was stored reads back (no 500 on the way out).
    const list = await raw({ method: "GET", path: "/api/v1/orgs/demo_org/models?limit=200&sort=created", headers: bob });
    expect(problemWith("list after", list, { status: [200] })).toBeNull();
  });

  test("X-Model-Metadata (plain and base64:) with hostile text is stored safely or refused with a 4xx", async () => {
    const bob = bearer("bob");
    const onnx = fixture("churn_model_v1.onnx");
    const slug = slugFor("metanul");
    let n = 0;
    const cases = TEXTS.flatMap(([what, text]) =>
      (["name", "description", "framework"] as const).flatMap((field) => {
        const meta = JSON.stringify({ [field]: text, task_type: "other" });
        // Header values are Latin-1 on the wire: non-Latin-1 text must go as base64: (the documented form).
        const plain =
          /^[\u0000-\u00ff]*$/.test(meta) && !/[\u0000-\u001f\u007f]/.test(meta)
            ? [[`${field} with ${what}`, meta]]
            : [
                [
                  `${field} with ${what} (JSON escape)`,
                  meta.replace(/[\u0000-\u001f\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
                ],
              ];
        return [...plain, [`${field} with ${what} (base64:)`, `base64:${b64(meta)}`]];
      }),
    );
    const extra: [string, string][] = [
      [
        "base64: of invalid UTF-8",
        `base64:${Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString("base64")}`,
      ],
      ["base64: that is not base64", "base64:!!!not base64!!!"],
      ["Latin-1 bytes", '{"name":"caf\u00e9 \u00ff"}'],
    ];
    const problems = await collectProblems([...cases, ...extra], async ([label, meta]) => {
      const a = await raw({
        method: "PUT",
        path: `/api/v1/orgs/demo_org/models/${slug}_${n}/versions/1.0?filename=m.onnx`,
        headers: { ...bob, "x-model-metadata": meta!.replace(/[^\u0000-\u00ff]/g, "?") },
        body: onnx,
      });
      n++;
      return problemWith(`X-Model-Metadata ${label}`, a, { status: [201, 400, 422] });
    });
    expect(problems).toEqual([]);
  });

  test("tus Upload-Metadata with NULs and hostile text is refused with a 4xx or handled", async () => {
    const bob = bearer("bob");
    const slug = slugFor("tusnul");
    const cases: [string, Record<string, string>][] = [
      ["a NUL in the org", { org: "demo_org\u0000", model: slug, version: "1.0", filename: "m.pkl" }],
      ["a NUL in the model", { org: "demo_org", model: `${slug}\u0000`, version: "1.0", filename: "m.pkl" }],
      ["a NUL in the file name", { org: "demo_org", model: slug, version: "1.1", filename: "m\u0000.pkl" }],
      [
        "a NUL in the metadata name",
        { org: "demo_org", model: slug, version: "1.2", filename: "m.pkl", metadata: JSON.stringify({ name: "a\u0000b" }) },
      ],
      [
        "a NUL in the metadata description",
        { org: "demo_org", model: slug, version: "1.3", filename: "m.pkl", metadata: JSON.stringify({ description: "\u0000" }) },
      ],
      ["metadata that is not JSON", { org: "demo_org", model: slug, version: "1.4", filename: "m.pkl", metadata: "{not json" }],
      ["metadata that is a JSON string", { org: "demo_org", model: slug, version: "1.5", filename: "m.pkl", metadata: '"just a string"' }],
      [
        "metadata with bad fields",
        { org: "demo_org", model: slug, version: "1.6", filename: "m.pkl", metadata: JSON.stringify({ task_type: "astrology" }) },
      ],
      ["a traversal file name", { org: "demo_org", model: slug, version: "1.7", filename: "../../../evil.exe" }],
      ["no org", { model: slug, version: "1.8", filename: "m.pkl" }],
      ["a version with a NUL", { org: "demo_org", model: slug, version: "1.9\u0000", filename: "m.pkl" }],
    ];
    // A NUL in the file name may be stripped (the name is display-only): then the create goes through.
    const problems = await collectProblems(cases, async ([label, m]) =>
      problemWith(
        `tus create with ${label}`,
        await raw({
          method: "POST",
          path: "/api/v1/uploads",
          headers: { ...bob, ...TUS, "upload-length": "1417", "upload-metadata": tusMetadata(m) },
        }),
        {
          status: label.includes("file name") ? [201, 400, 415, 422] : [400, 404, 415, 422],
          contentType: false,
        },
      ),
    );
    for (const [label, header] of [
      ["values that are not base64", "org !!!,model ???"],
      [
        "a duplicate key",
        `org ${b64("demo_org")},org ${b64("admin_org")},model ${b64(slug)},version ${b64("2.0")},filename ${b64("m.pkl")}`,
      ],
      ["a key with spaces", `or g ${b64("demo_org")}`],
    ] as const) {
      const problem = problemWith(
        `tus create with ${label}`,
        await raw({
          method: "POST",
          path: "/api/v1/uploads",
          headers: { ...bob, ...TUS, "upload-length": "1417", "upload-metadata": header },
        }),
        { status: [400, 404, 422], json: false },
      );
      if (problem) problems.push(problem);
    }
    expect(problems).toEqual([]);
  });
});

test.describe("malformed cursors", () => {
  const enc = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
  const UUID = "00000000-0000-4000-8000-000000000000";

  test("malformed model-list cursors are a 400, for every sort", async () => {
    const cursors: [string, string][] = [
      ["not base64", "!!!"],
      ["base64 of text", enc("hello")],
      ["null", enc(null)],
      ["an object", enc({ a: 1 })],
      ["an empty array", enc([])],
      ["one element", enc(["2024-01-01T00:00:00.000Z"])],
      ["three elements", enc(["2024-01-01T00:00:00.000Z", UUID, 1])],
      ["a non-uuid id", enc(["2024-01-01T00:00:00.000Z", "not-a-uuid"])],
      ["a uuid with a NUL", enc(["2024-01-01T00:00:00.000Z", `${UUID}\u0000`])],
      ["an object value", enc([{ a: 1 }, UUID])],
      ["an array value", enc([[1, 2], UUID])],
      ["a null value", enc([null, UUID])],
      ["a boolean value", enc([true, UUID])],
      ["a text value", enc(["not a date", UUID])],
      ["a huge number", enc([1e308, UUID])],
      ["a NUL value", enc(["\u0000", UUID])],
      ["an impossible date", enc(["2024-02-30T00:00:00Z", UUID])],
      ["a number id", enc(["2024-01-01T00:00:00.000Z", 7])],
    ];
    const bob = bearer("bob");
    const cases = ["updated", "created", "name", "size"].flatMap((sort) => cursors.map(([what, c]) => [sort, what, c] as const));
    const problems = await collectProblems(cases, async ([sort, what, c]) => {
      const a = await raw({ method: "GET", path: `/api/v1/orgs/demo_org/models?sort=${sort}&cursor=${c}`, headers: bob });
      // A cursor whose value happens to be valid for this sort may simply page (200): the others are 400.
      const plausible = sort === "name" && ["a text value", "an impossible date"].includes(what);
      return problemWith(`models sort=${sort} cursor=${what}`, a, { status: plausible ? [200, 400] : [400], code: ["bad_request"] });
    });
    expect(problems).toEqual([]);
    // Control: a real cursor pages.
    const first = JSON.parse((await raw({ method: "GET", path: "/api/v1/orgs/demo_org/models?limit=1", headers: bob })).body);
    expect(first.next_cursor).toBeTruthy();
    const next = await raw({ method: "GET", path: `/api/v1/orgs/demo_org/models?limit=1&cursor=${first.next_cursor}`, headers: bob });
    expect(next.status).toBe(200);
  });

  test("malformed audit cursors are a 400", async () => {
    const cursors: [string, string][] = [
      ["not base64", "!!!"],
      ["null", enc(null)],
      ["an object", enc({ ts: "2024-01-01", id: 1 })],
      ["a string id", enc(["2024-01-01T00:00:00.000Z", "1"])],
      ["a fractional id", enc(["2024-01-01T00:00:00.000Z", 1.5])],
      ["a negative id", enc(["2024-01-01T00:00:00.000Z", -1])],
      ["an id beyond bigint", enc(["2024-01-01T00:00:00.000Z", 9.3e18])],
      ["a bad date", enc(["not a date", 1])],
      ["a date that JavaScript reads and Postgres does not", enc(["0", 1])],
      ["a year-2000 shorthand", enc(["1", 1])],
      ["an RFC 2822 date", enc(["Tue, 01 Jan 2030 00:00:00 GMT", 1])],
      ["an expanded year", enc(["+275760-09-13T00:00:00.000Z", 1])],
      ["an impossible date", enc(["2024-02-30T00:00:00Z", 1])],
      ["a NUL in the date", enc(["2024-01-01\u0000", 1])],
      ["a cursor of 199 characters", "A".repeat(199)],
    ];
    const bob = bearer("bob");
    const problems = await collectProblems(cursors, async ([what, c]) => {
      const a = await raw({ method: "GET", path: `/api/v1/orgs/demo_org/audit?cursor=${c}`, headers: bob });
      // An RFC 2822 date is a date and -1 an integer: paging from them is fine.
      return problemWith(`audit cursor=${what}`, a, {
        status: ["an RFC 2822 date", "a negative id"].includes(what) ? [200, 400] : [400],
        code: ["bad_request"],
      });
    });
    const csv = await raw({ method: "GET", path: `/api/v1/orgs/demo_org/audit?format=csv&cursor=${enc(["0", 1])}`, headers: bob });
    const p = problemWith("audit CSV with a malformed cursor", csv, { status: [200, 400] });
    if (p) problems.push(p);
    expect(problems).toEqual([]);
  });
});
