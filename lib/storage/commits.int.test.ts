import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { withService } from "@/lib/db/client";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { announce, body, fixtureFolder, hfFolder, sha256, streamToFile, untar, unzip, type FolderFile } from "@/test/folders";
import { errorCode as code, fixture, makeWorld, type World } from "@/test/world";

/** Files under the store's bucket (apart from the temp folder). */
function storedFiles(w: World): string[] {
  const root = path.join(w.config.storageDir, w.config.bucket);
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter(
    (f) => !f.startsWith(".tmp") && fs.statSync(path.join(root, f)).isFile(),
  );
}

describe.each(DB_KINDS)("file sets (commits) on %s", (kind) => {
  let t: TestDatabase;
  const worlds: World[] = [];
  const world = async () => {
    const w = await makeWorld(t.db);
    worlds.push(w);
    return w;
  };
  beforeAll(async () => {
    t = await openTestDatabase(kind);
  });
  afterEach(() => {
    for (const w of worlds.splice(0)) w.cleanup();
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  /** Commits `files` as `version` of `model`, uploads what the server asks for, completes. */
  async function commitFolder(w: World, model: string, version: string, files: FolderFile[], who: "member" | "owner" = "member") {
    const p = w.users[who];
    const c = await w.services.uploads.commits.createCommit(p, { org: w.orgs.a.slug, model, version, files: announce(files) });
    const sent: string[] = [];
    for (const f of c.files.filter((x) => x.state === "upload")) {
      const data = files.find((x) => x.path === f.path)!.data;
      await w.services.uploads.uploadFile(p, c.id, f.path, body(data), { contentLength: data.length });
      sent.push(f.path);
    }
    const v = await w.services.uploads.commits.completeCommit(p, c.id);
    return { commit: c, version: v, sent };
  }

  const storedBytes = (w: World) =>
    withService(t.db, async (tx) => {
      const { rows } = await tx.query<{ n: string }>(
        "select coalesce(sum(size_bytes), 0)::text as n from public.blobs where org_id = $1 and status = 'stored' and purged_at is null",
        [w.orgs.a.id],
      );
      return Number(rows[0]!.n);
    });

  it("a folder becomes one version: every file listed with its hash, each downloadable by path, the whole as zip and tar", async () => {
    const w = await world();
    const files = hfFolder();
    const { version: v, sent } = await commitFolder(w, "tiny_lm", "1.0", files);
    expect(sent.sort()).toEqual(files.map((f) => f.path).sort());
    expect(v).toMatchObject({ status: "ready", file_count: files.length, scan_verdict: "safe" });
    expect(v.size_bytes).toBe(files.reduce((n, f) => n + f.data.length, 0));
    const listed = await w.services.files.listFiles(w.users.viewer, w.orgs.a.slug, "tiny_lm", "1.0");
    expect(listed.files.map((f) => [f.path, f.sha256, Number(f.size_bytes)])).toEqual(
      [...files].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => [f.path, sha256(f.data), f.data.length]),
    );
    const roles = Object.fromEntries(listed.files.map((f) => [f.path, (f.metadata as { role: string }).role]));
    expect(roles).toMatchObject({ "model-00001-of-00002.safetensors": "model", "README.md": "asset", "config.json": expect.any(String) });

    const one = await w.services.downloads.openDownload(w.users.viewer, w.orgs.a.slug, "tiny_lm", "1.0", { path: "README.md" });
    expect(Buffer.concat(await one.stream.toArray()).equals(files.find((f) => f.path === "README.md")!.data)).toBe(true);
    await one.recorded;
    // No path on a version of several files: which one?
    expect(await code(w.services.downloads.openDownload(w.users.viewer, w.orgs.a.slug, "tiny_lm", "1.0"))).toBe("conflict");
    expect(await code(w.services.downloads.openDownload(w.users.viewer, w.orgs.a.slug, "tiny_lm", "1.0", { path: "nope.bin" }))).toBe(
      "not_found",
    );

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fm-archive-"));
    try {
      for (const format of ["zip", "tar"] as const) {
        const d = await w.services.downloads.openDownload(w.users.viewer, w.orgs.a.slug, "tiny_lm", "1.0", { format });
        const file = await streamToFile(d.stream, dir, `v.${format}`);
        await d.recorded;
        expect(fs.statSync(file).size, `${format}: the announced length is the length`).toBe(d.size);
        const got = format === "zip" ? await unzip(file) : await untar(file);
        expect([...got.keys()].sort()).toEqual(files.map((f) => `tiny_lm-1.0/${f.path}`).sort());
        for (const f of files) expect(got.get(`tiny_lm-1.0/${f.path}`)!.equals(f.data), `${format}: ${f.path}`).toBe(true);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the same folder again with one changed config stores only that file (and says what it skipped)", async () => {
    const w = await world();
    await commitFolder(w, "tiny_lm", "1.0", hfFolder());
    const before = await storedBytes(w);
    const next = hfFolder({ configNote: "retrained" });
    const { commit, sent, version } = await commitFolder(w, "tiny_lm", "1.1", next);
    expect(sent).toEqual(["config.json"]);
    expect(
      commit.files
        .filter((f) => f.deduplicated)
        .map((f) => f.path)
        .sort(),
    ).toEqual(
      next
        .map((f) => f.path)
        .filter((p) => p !== "config.json")
        .sort(),
    );
    const changed = next.find((f) => f.path === "config.json")!.data.length;
    expect(await storedBytes(w)).toBe(before + changed);
    // Both versions are whole: every file of 1.0 still downloads from 1.0.
    const d = await w.services.downloads.openDownload(w.users.viewer, w.orgs.a.slug, "tiny_lm", "1.0", { path: "config.json" });
    expect(sha256(Buffer.concat(await d.stream.toArray()))).toBe(sha256(hfFolder()[0]!.data));
    const diff = await w.services.files.compare(w.users.viewer, w.orgs.a.slug, "tiny_lm", "1.0", "1.1");
    expect({
      added: diff.files.added,
      removed: diff.files.removed,
      changed: diff.files.changed.map((c) => c.path),
      unchanged: diff.files.unchanged,
    }).toEqual({
      added: [],
      removed: [],
      changed: ["config.json"],
      unchanged: next.length - 1,
    });
    expect(diff.size_delta).toBe(
      Number(version.size_bytes) -
        Number((await w.services.catalog.getVersion(w.users.viewer, w.orgs.a.slug, "tiny_lm", "1.0")).size_bytes),
    );
  });

  it("recognises layouts: a Hugging Face folder (architecture, parameters, card), an MLflow model (flavor)", async () => {
    const w = await world();
    const { version: hf } = await commitFolder(w, "tiny_llama", "1.0", fixtureFolder("tiny-transformers"));
    expect(hf.layout).toBe("transformers");
    expect(hf.layout_details).toMatchObject({ card: "README.md" });
    expect(JSON.stringify(hf.layout_details)).toContain("LlamaForCausalLM");
    expect(JSON.stringify(hf.layout_details)).toContain("12368");
    expect(hf.framework).toBe("pytorch");
    const { version: ml } = await commitFolder(w, "churn", "1.0", fixtureFolder("tiny-mlflow"));
    expect({ layout: ml.layout, framework: ml.framework }).toEqual({ layout: "mlflow", framework: "scikit-learn" });
  });

  it("a sharded model whose index names a missing shard is refused (422) and leaves nothing visible", async () => {
    const w = await world();
    const e = await code(commitFolder(w, "broken_llama", "1.0", fixtureFolder("tiny-transformers-missing-shard")));
    expect(e).toBe("invalid_model_file");
    expect(await code(w.services.catalog.getVersion(w.users.owner, w.orgs.a.slug, "broken_llama", "1.0"))).toBe("not_found");
  });

  it("tags and provenance are kept with the version and make the model findable", async () => {
    const w = await world();
    await commitFolder(w, "tiny_lm", "1.0", hfFolder());
    const c = await w.services.uploads.commits.createCommit(w.users.member, {
      org: w.orgs.a.slug,
      model: "tiny_lm",
      version: "1.1",
      files: announce(hfFolder({ configNote: "v2" })),
      tags: { dataset: "churn-2026-q3", stage: "candidate" },
      provenance: {
        git_commit: "3f9c2e1a7b",
        source_run_url: "https://runs.example.com/r/42",
        parent: { model: "tiny_lm", version: "1.0" },
      },
    });
    for (const f of c.files.filter((x) => x.state === "upload")) {
      await w.services.uploads.uploadFile(
        w.users.member,
        c.id,
        f.path,
        body(hfFolder({ configNote: "v2" }).find((x) => x.path === f.path)!.data),
      );
    }
    const v = await w.services.uploads.commits.completeCommit(w.users.member, c.id);
    expect(v.tags).toEqual({ dataset: "churn-2026-q3", stage: "candidate" });
    expect(v.parent).toEqual({ model: "tiny_lm", version: "1.0" });
    expect(v.provenance).toMatchObject({ git_commit: "3f9c2e1a7b" });
    const found = await w.services.catalog.listModels(w.users.viewer, w.orgs.a.slug, { q: "churn 2026" });
    expect(found.items.map((m) => m.slug)).toEqual(["tiny_lm"]);
    expect((await w.services.catalog.listModels(w.users.viewer, w.orgs.a.slug, { q: "3f9c2e1a7b" })).items.map((m) => m.slug)).toEqual([
      "tiny_lm",
    ]);
    // A parent that does not exist is a field error, before anything is reserved.
    expect(
      await code(
        w.services.uploads.commits.createCommit(w.users.member, {
          org: w.orgs.a.slug,
          model: "tiny_lm",
          version: "2.0",
          files: announce(hfFolder()),
          provenance: { parent: { model: "tiny_lm", version: "9.9" } },
        }),
      ),
    ).toBe("invalid_input");
  });

  it("the same bytes at two paths are uploaded once", async () => {
    const w = await world();
    const data = fs.readFileSync(fixture("credit_risk_v2.1.pkl"));
    const c = await w.services.uploads.commits.createCommit(w.users.member, {
      org: w.orgs.a.slug,
      model: "twins",
      version: "1.0",
      files: announce([
        { path: "a/model.pkl", data },
        { path: "b/model.pkl", data },
      ]),
    });
    expect(new Set(c.files.map((f) => f.blobId)).size).toBe(1);
    await w.services.uploads.uploadFile(w.users.member, c.id, "a/model.pkl", body(data));
    expect((await w.services.uploads.commits.getCommit(w.users.member, c.id)).files.every((f) => f.state === "stored")).toBe(true);
    expect((await w.services.uploads.commits.completeCommit(w.users.member, c.id)).file_count).toBe(2);
  });

  it("nothing is visible before complete; a missing file is a 409 that names it; abandoning leaves no bytes and frees the number", async () => {
    const w = await world();
    const files = hfFolder();
    const filesBefore = storedFiles(w);
    const c = await w.services.uploads.commits.createCommit(w.users.member, {
      org: w.orgs.a.slug,
      model: "half",
      version: "1.0",
      files: announce(files),
    });
    const first = files[3]!;
    await w.services.uploads.uploadFile(w.users.member, c.id, first.path, body(first.data));
    expect(await code(w.services.catalog.getVersion(w.users.owner, w.orgs.a.slug, "half", "1.0"))).toBe("not_found");
    expect(await code(w.services.uploads.commits.getCommit(w.users.owner, c.id))).toBe("not_found");
    const e = (await w.services.uploads.commits.completeCommit(w.users.member, c.id).then(
      () => ({}),
      (x: unknown) => x,
    )) as { code?: string; details?: { missing: string[] } };
    expect(e.code).toBe("conflict");
    expect(e.details?.missing).toHaveLength(files.length - 1);
    await w.services.uploads.commits.abandonCommit(w.users.member, c.id);
    expect(await code(w.services.uploads.commits.getCommit(w.users.member, c.id))).toBe("not_found");
    // What it stored stays (unreferenced, for a retry or the sweep); nothing pending remains.
    const pending = await withService(t.db, (tx) =>
      tx.query("select 1 from public.blobs where org_id = $1 and status = 'pending'", [w.orgs.a.id]),
    );
    expect(pending.rows).toEqual([]);
    expect(storedFiles(w).length).toBe(filesBefore.length + 1);
    // A retry reuses that file and completes.
    const { sent } = await commitFolder(w, "half", "1.0", files);
    expect(sent).not.toContain(first.path);
  });

  it("a file whose bytes do not match what was announced is refused and can be sent again", async () => {
    const w = await world();
    const files = hfFolder();
    const c = await w.services.uploads.commits.createCommit(w.users.member, {
      org: w.orgs.a.slug,
      model: "retry",
      version: "1.0",
      files: announce(files),
    });
    const readme = files.find((f) => f.path === "README.md")!;
    expect(await code(w.services.uploads.uploadFile(w.users.member, c.id, "README.md", body(Buffer.from("# Other card\n"))))).toMatch(
      /mismatch/,
    );
    expect((await w.services.uploads.commits.getCommit(w.users.member, c.id)).files.find((f) => f.path === "README.md")!.state).toBe(
      "upload",
    );
    await w.services.uploads.uploadFile(w.users.member, c.id, "README.md", body(readme.data));
    expect((await w.services.uploads.commits.getCommit(w.users.member, c.id)).files.find((f) => f.path === "README.md")!.state).toBe(
      "stored",
    );
  });

  it("a dangerous file quarantines the whole version, and its finding names the file", async () => {
    const w = await world();
    const evil = fs.readFileSync(fixture("malicious_os_system.pkl"));
    const { version: v } = await commitFolder(w, "trojan", "1.0", [...hfFolder(), { path: "extras/helper.pkl", data: evil }]);
    expect(v.status).toBe("quarantined");
    expect(v.scan_verdict).toBe("dangerous");
    expect(v.scan_findings.some((f) => f.location?.startsWith("extras/helper.pkl"))).toBe(true);
  });

  it("refuses unsafe paths, duplicate paths and a path that is both a file and a folder", async () => {
    const w = await world();
    const make = (paths: string[]) =>
      w.services.uploads.commits.createCommit(w.users.member, {
        org: w.orgs.a.slug,
        model: "paths",
        version: "1.0",
        files: paths.map((p) => ({ path: p, size: 1, sha256: "a".repeat(64) })),
      });
    for (const bad of ["../x", "/etc/passwd", "a\\b", "a//b", "a/./b", "a/", "", "x\u0000y", "x\u202ey"])
      expect(await code(make([bad])), JSON.stringify(bad)).toBe("invalid_input");
    const { createCommitSchema } = await import("@/lib/validations/files");
    for (const paths of [
      ["A.txt", "a.txt"],
      ["a", "a/b"],
    ]) {
      expect(
        createCommitSchema.safeParse({ version: "1.0", files: paths.map((p) => ({ path: p, size: 1, sha256: "a".repeat(64) })) }).success,
      ).toBe(false);
    }
  });

  it("viewers cannot commit; other organizations cannot see a commit or its files", async () => {
    const w = await world();
    expect(
      await code(
        w.services.uploads.commits.createCommit(w.users.viewer, {
          org: w.orgs.a.slug,
          model: "m",
          version: "1.0",
          files: announce(hfFolder()),
        }),
      ),
    ).toBe("forbidden");
    await commitFolder(w, "private_lm", "1.0", hfFolder());
    expect(await code(w.services.files.listFiles(w.users.outsider, w.orgs.a.slug, "private_lm", "1.0"))).toBe("not_found");
    expect(await code(w.services.downloads.openDownload(w.users.outsider, w.orgs.a.slug, "private_lm", "1.0", { format: "zip" }))).toBe(
      "not_found",
    );
  });

  it("a PUT of a file the organization already stores keeps one copy", async () => {
    const w = await world();
    await w.upload("member", "a", "1.0");
    const before = await storedBytes(w);
    await w.upload("member", "b", "1.0");
    expect(await storedBytes(w)).toBe(before);
    expect(storedFiles(w)).toHaveLength(1);
    const d = await w.services.downloads.openDownload(w.users.viewer, w.orgs.a.slug, "b", "1.0");
    expect(Buffer.concat(await d.stream.toArray()).length).toBe(d.size);
  });

  it("a file the store will not give back when the commit completes fails the commit (503), never a version whose layout went unchecked", async () => {
    const w = await world();
    const files = hfFolder();
    const p = w.users.member;
    const c = await w.services.uploads.commits.createCommit(p, {
      org: w.orgs.a.slug,
      model: "unread",
      version: "1.0",
      files: announce(files),
    });
    for (const f of c.files) {
      const data = files.find((x) => x.path === f.path)!.data;
      await w.services.uploads.uploadFile(p, c.id, f.path, body(data), { contentLength: data.length });
    }
    // The store loses config.json between upload and complete (what Storage's policies did to members).
    const config = c.files.find((f) => f.path === "config.json")!;
    fs.rmSync(path.join(w.config.storageDir, w.config.bucket, config.key));
    const err = await w.services.uploads.commits.completeCommit(p, c.id).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message?: string },
    );
    expect(err?.code).toBe("unavailable");
    expect(err?.message).toMatch(/config\.json/);
    expect(await code(w.services.catalog.getVersion(w.users.viewer, w.orgs.a.slug, "unread", "1.0"))).toBe("not_found");
  });
});
