import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test, expect, type APIRequestContext, type Page } from "@playwright/test";
import yauzl from "yauzl";
import { authFile } from "./pages";

// Issue 13 in Chromium: a model folder uploaded as one version (the folder picker and a drag and
// drop), its tree, layout and card on the model page, zip and tar that match byte for byte, and the
// same folder again with one changed file storing only that file.

const FOLDERS = "test/fixtures/folders";
const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");
const stamp = () => `${Date.now().toString(36)}${crypto.randomBytes(2).toString("hex")}`;

/** The files of a folder: path (inside it) -> bytes. */
function readFolder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const full = path.join(dir, f);
    if (fs.statSync(full).isFile()) out.set(f.split(path.sep).join("/"), fs.readFileSync(full));
  }
  return out;
}

/** A copy of a fixture folder under a new name (the folder's name is what the uploader shows). */
function copyFolder(name: string, as: string, change?: (files: Map<string, Buffer>) => void): string {
  const files = readFolder(path.join(FOLDERS, name));
  change?.(files);
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fm-e2e-folder-")), as);
  for (const [p, b] of files) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), b);
  }
  return root;
}

/** Drops a folder on the drop zone the way a browser does: Files whose relative paths name the folder. */
/**
 * Drops a folder on the drop zone the way Chromium hands one to a page: one DataTransferItem whose
 * webkitGetAsEntry() is a FileSystemDirectoryEntry, read with createReader().readEntries(). (A
 * DataTransfer built with items.add(file) cannot carry folders: Chromium hands the page fresh File
 * objects without their paths.)
 */
async function dropFolder(page: Page, dir: string) {
  const name = path.basename(dir);
  const files = [...readFolder(dir)].map(([p, b]) => ({ p, b64: b.toString("base64") }));
  await page.getByTestId("dropzone").evaluate(
    (zone, { name, files }) => {
      type Entry = Record<string, unknown>;
      const root: { dirs: Map<string, Entry>; files: Entry[] } = { dirs: new Map(), files: [] };
      const dirEntry = (fullPath: string, node: typeof root): Entry => ({
        isDirectory: true,
        isFile: false,
        name: fullPath.slice(fullPath.lastIndexOf("/") + 1),
        fullPath,
        createReader() {
          let read = false;
          return {
            readEntries(ok: (e: Entry[]) => void) {
              const out = read ? [] : [...node.files, ...[...node.dirs.values()]];
              read = true;
              setTimeout(() => ok(out), 0);
            },
          };
        },
      });
      const nodes = new Map<string, typeof root>([["", root]]);
      for (const f of files) {
        const parts = f.p.split("/");
        let at = "";
        let node = root;
        for (const seg of parts.slice(0, -1)) {
          const next = at ? `${at}/${seg}` : seg;
          if (!nodes.has(next)) {
            const child = { dirs: new Map(), files: [] as Entry[] };
            nodes.set(next, child);
            node.dirs.set(seg, dirEntry(`/${name}/${next}`, child));
          }
          node = nodes.get(next)!;
          at = next;
        }
        const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
        const file = new File([bytes], parts[parts.length - 1]!, { lastModified: 1_764_000_000_000 });
        node.files.push({
          isDirectory: false,
          isFile: true,
          name: file.name,
          fullPath: `/${name}/${f.p}`,
          file: (ok: (f: File) => void) => setTimeout(() => ok(file), 0),
        });
      }
      const folder = dirEntry(`/${name}`, root);
      const item = { kind: "file", type: "", getAsFile: () => null, webkitGetAsEntry: () => folder };
      const dataTransfer = { types: ["Files"], files: [], items: [item], dropEffect: "none", effectAllowed: "all" };
      for (const type of ["dragenter", "dragover", "drop"]) {
        const ev = new Event(type, { bubbles: true, cancelable: true });
        Object.defineProperty(ev, "dataTransfer", { value: dataTransfer });
        zone.dispatchEvent(ev);
      }
    },
    { name, files },
  );
}

async function unzip(buf: Buffer): Promise<Map<string, Buffer>> {
  const zip = await yauzl.fromBufferPromise(buf, { lazyEntries: true });
  const out = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on("error", reject).on("end", () => resolve());
    zip.on("entry", (e: yauzl.Entry) => {
      zip.openReadStreamPromise(e).then(async (s) => {
        const chunks: Buffer[] = [];
        for await (const c of s) chunks.push(c as Buffer);
        out.set(e.fileName, Buffer.concat(chunks));
        zip.readEntry();
      }, reject);
    });
    zip.readEntry();
  });
  return out;
}

/** path -> bytes of a tar (ustar/pax), read here independently of the server's writer. */
function untar(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pax: Record<string, string> = {};
  for (let off = 0; off + 512 <= buf.length;) {
    const h = buf.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const size = parseInt(h.subarray(124, 136).toString("ascii").replace(/\0.*$/s, "").trim() || "0", 8);
    const type = String.fromCharCode(h[156]!);
    const data = buf.subarray(off + 512, off + 512 + size);
    if (type === "x") {
      pax = Object.fromEntries(
        data
          .toString("utf8")
          .split("\n")
          .filter(Boolean)
          .map((r) => r.slice(r.indexOf(" ") + 1).split("=") as [string, string]),
      );
    } else {
      out.set(pax.path ?? h.subarray(0, 100).toString("utf8").replace(/\0.*$/s, ""), Buffer.from(data));
      pax = {};
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

async function storedBytes(request: APIRequestContext): Promise<number> {
  const u = await (await request.get("/api/v1/orgs/demo_org/usage")).json();
  return u.totals.stored_bytes as number;
}

test.describe("as a member (bob)", () => {
  test.use({ storageState: authFile("bob") });

  test("a Hugging Face folder is one version: its tree, layout and card; zip and tar match byte for byte", async ({ page, request }) => {
    const name = `hf_${stamp()}`;
    const dir = copyFolder("tiny-transformers", name);
    await page.goto("/orgs/demo_org/upload");
    await page.getByTestId("folder-input").setInputFiles(dir);
    const item = page.getByTestId("folder-item");
    await expect(item).toContainText(name);
    await expect(item).toContainText("9 files");
    await item.getByTestId("folder-upload").click();
    await expect(item.getByTestId("folder-done")).toBeVisible({ timeout: 60_000 });
    await item.getByRole("link", { name: "Open the model" }).click();

    await expect(page.getByTestId("version-layout")).toHaveText("transformers");
    const files = page.getByTestId("file-row");
    await expect(files).toHaveCount(9);
    await expect(page.getByTestId("model-card")).toContainText("tiny-llama-demo");
    // Front matter lists read as lists ("tags: llama, tiny, fairmind-demo"), not as a lost line.
    await expect(page.getByTestId("model-card").locator("dl")).toContainText("llama, tiny, fairmind-demo");
    // The card's front matter is a table of tags, not text; nothing from it runs.
    await expect(page.getByTestId("model-card").locator("script")).toHaveCount(0);

    const original = readFolder(dir);
    const base = `/api/v1/orgs/demo_org/models/${name}/versions/1.0`;
    const zip = await request.get(`${base}/download?format=zip`);
    expect(zip.status()).toBe(200);
    const zipBody = await zip.body();
    expect(Number(zip.headers()["content-length"])).toBe(zipBody.length);
    const unzipped = await unzip(zipBody);
    const tarRes = await request.get(`${base}/download?format=tar`);
    const tarBody = await tarRes.body();
    // Sent as stored: never re-encoded on the fly (that broke the length the client was promised).
    expect(tarRes.headers()["content-encoding"]).toBeUndefined();
    expect(Number(tarRes.headers()["content-length"])).toBe(tarBody.length);
    const tar = untar(tarBody);
    for (const [p, b] of original) {
      expect(sha(unzipped.get(`${name}-1.0/${p}`)!), `zip ${p}`).toBe(sha(b));
      expect(sha(tar.get(`${name}-1.0/${p}`)!), `tar ${p}`).toBe(sha(b));
    }
    expect(unzipped.size).toBe(original.size);
    expect(tar.size).toBe(original.size);

    // The versions table's Download of a folder version is its zip (the plain URL is a 409 for it).
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-link").first().click()]);
    expect(await download.failure()).toBeNull();
    expect(download.suggestedFilename()).toBe(`${name}-1.0.zip`);
    expect(fs.readFileSync(await download.path()).equals(zipBody)).toBe(true);
  });

  test("the same folder dropped again with one changed config stores only that file", async ({ page, request }) => {
    const name = `hf2_${stamp()}`;
    const first = copyFolder("tiny-transformers", name);
    await page.goto("/orgs/demo_org/upload");
    await dropFolder(page, first);
    const item = page.getByTestId("folder-item");
    await item.getByTestId("folder-upload").click();
    await expect(item.getByTestId("folder-done")).toBeVisible({ timeout: 60_000 });

    const before = await storedBytes(request);
    let changed = 0;
    const second = copyFolder("tiny-transformers", name, (files) => {
      const config = JSON.parse(files.get("config.json")!.toString("utf8"));
      const next = Buffer.from(JSON.stringify({ ...config, max_position_embeddings: 512 }, null, 2));
      files.set("config.json", next);
      changed = next.length;
    });
    await page.goto(`/orgs/demo_org/upload?model=${name}`);
    await dropFolder(page, second);
    const again = page.getByTestId("folder-item");
    await expect(again.locator('input[value="1.1"]')).toBeVisible();
    await again.getByTestId("folder-upload").click();
    await expect(again.getByTestId("folder-done")).toContainText("8 already stored", { timeout: 60_000 });
    expect(await storedBytes(request)).toBe(before + changed);

    await page.goto(`/orgs/demo_org/models/${name}/compare?from=1.0&to=1.1`);
    await expect(page.getByTestId("compare-summary")).toContainText("0 added · 0 removed · 1 changed · 8 unchanged");
    await expect(page.getByTestId("diff-changed")).toContainText("config.json");
  });

  test("an MLflow folder, through the REST API: commit, PUT what is missing, complete", async ({ request }) => {
    const model = `mlflow_${stamp()}`;
    const files = readFolder(path.join(FOLDERS, "tiny-mlflow"));
    const announce = [...files].map(([p, b]) => ({ path: p, size: b.length, sha256: sha(b) }));
    const c = await request.post(`/api/v1/orgs/demo_org/models/${model}/commits`, {
      data: { version: "1.0", files: announce, tags: { team: "e2e" }, provenance: { git_commit: "abc1234" } },
    });
    expect(c.status(), await c.text()).toBe(201);
    const commit = await c.json();
    for (const f of commit.files.filter((x: { state: string }) => x.state === "upload")) {
      const r = await request.put(f.upload.put_url, { data: files.get(f.path)!, headers: { "content-type": "application/octet-stream" } });
      expect(r.status(), await r.text()).toBe(200);
    }
    const done = await request.post(commit.complete_url, { data: {} });
    expect(done.status(), await done.text()).toBe(201);
    const v = await done.json();
    expect(v).toMatchObject({ layout: "mlflow", framework: "scikit-learn", file_count: files.size, tags: { team: "e2e" } });
    const listed = await (await request.get(`/api/v1/orgs/demo_org/models/${model}/versions/1.0/files`)).json();
    for (const item of listed.items) {
      const got = await request.get(item.download_url);
      expect(sha(await got.body()), item.path).toBe(sha(files.get(item.path)!));
      expect(got.headers().etag).toBe(`"${item.sha256}"`);
    }
  });
});
