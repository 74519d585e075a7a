import { CopyButton } from "./copy-button";

interface Props {
  origin: string;
  org: string;
  model: { slug: string; name: string; task_type: string };
  /** A version a pipeline could upload next. */
  nextVersion: string;
  /** The version to download in the example (latest ready one), if any. */
  download?: { version: string; sha256: string; fileName: string };
  ext: string;
  /** Viewers get the download half only. */
  canUpload: boolean;
}

/** Copy-ready curl and Python snippets for training pipelines: upload, resumable download, verify. */
export function PipelineSnippets({ origin, org, model, nextVersion, download, ext, canUpload }: Props) {
  const base = `${origin}/api/v1/orgs/${org}/models/${model.slug}`;
  const upFile = `${model.slug}_v${nextVersion}.${ext}`;
  const meta = JSON.stringify({ name: model.name, task_type: model.task_type });
  // X-Model-Metadata must be ASCII in a header: non-ASCII JSON is sent as "base64:" + base64.
  const metaHeader = /^[\x20-\x7e]*$/.test(meta) ? meta : `base64:${Buffer.from(meta).toString("base64")}`;
  const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const dl = download ?? { version: "<version>", sha256: "<sha256 from the versions table>", fileName: `${model.slug}_v<version>.${ext}` };

  const curlUpload = `# Upload a new version: streamed; the server checks the SHA-256 you announce.
# X-Model-Metadata is only used when the model does not exist yet.
curl --fail-with-body -T ${upFile} \\
  -H "Authorization: Bearer $FAIRMIND_TOKEN" \\
  -H ${shellQuote(`X-Model-Metadata: ${metaHeader}`)} \\
  -H "X-Content-SHA256: $(sha256sum ${upFile} | cut -d' ' -f1)" \\
  "$BASE/versions/${nextVersion}?filename=${upFile}"

`;
  const curl = `# A token from "API tokens"${canUpload ? " (role member or above to upload)" : ""}
export FAIRMIND_TOKEN=fm_...
BASE=${base}

${canUpload ? curlUpload : ""}# Download v${dl.version}; -C - resumes a partial file with an HTTP Range request.
curl --fail -C - -H "Authorization: Bearer $FAIRMIND_TOKEN" \\
  -o ${dl.fileName} "$BASE/versions/${dl.version}/download"

# Verify the bytes.
echo "${dl.sha256}  ${dl.fileName}" | sha256sum -c -`;

  const pyUpload = `# Upload a new version (the file is streamed, not read into memory).
path = "${upFile}"
with open(path, "rb") as f:
    r = requests.put(
        f"{BASE}/versions/${nextVersion}",
        params={"filename": os.path.basename(path)},
        data=f,
        headers={
            **AUTH,
            "X-Model-Metadata": json.dumps(${meta}),
            "X-Content-SHA256": sha256_of(path),
        },
        timeout=3600,
    )
if not r.ok:
    raise SystemExit(r.json()["error"]["message"])
print("stored", r.json()["version"], r.json()["sha256"], r.json()["scan"]["verdict"])

`;
  const python = `import hashlib, json, os
import requests

BASE = "${base}"
AUTH = {"Authorization": f"Bearer {os.environ['FAIRMIND_TOKEN']}"}


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


${canUpload ? pyUpload : ""}# Download v${dl.version}, resuming a partial file with a Range request.
out = "${dl.fileName}"
have = os.path.getsize(out) if os.path.exists(out) else 0
headers = {**AUTH, **({"Range": f"bytes={have}-"} if have else {})}
with requests.get(f"{BASE}/versions/${dl.version}/download", headers=headers, stream=True, timeout=3600) as r:
    if r.status_code != 416:  # 416: the file is already complete
        r.raise_for_status()
        with open(out, "ab" if r.status_code == 206 else "wb") as f:
            for chunk in r.iter_content(1 << 20):
                f.write(chunk)

# Verify the bytes against the SHA-256 the server recorded at upload.
assert sha256_of(out) == "${dl.sha256}", "checksum mismatch"`;

  return (
    <div className="grid gap-4 xl:grid-cols-2">
      <Snippet title="curl" code={curl} testId="snippet-curl" />
      <Snippet title="Python (requests)" code={python} testId="snippet-python" />
    </div>
  );
}

function Snippet({ title, code, testId }: { title: string; code: string; testId: string }) {
  return (
    <figure className="min-w-0 overflow-hidden rounded-lg border border-slate-200">
      <figcaption className="flex items-center justify-between border-b border-slate-200 bg-slate-50 px-3 py-1.5 text-xs font-medium text-slate-600">
        {title}
        <CopyButton value={code} label={`Copy the ${title} snippet`} testId={`${testId}-copy`} />
      </figcaption>
      <pre
        tabIndex={0}
        className="max-h-96 overflow-auto bg-slate-900 p-3 text-xs leading-relaxed whitespace-pre-wrap text-slate-100 [overflow-wrap:anywhere]"
        data-testid={testId}
      >
        <code>{code}</code>
      </pre>
    </figure>
  );
}
