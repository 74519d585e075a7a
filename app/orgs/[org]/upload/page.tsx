import type { Metadata } from "next";
import Link from "next/link";
import { UploadWorkspace } from "@/components/upload/upload-workspace";
import { ALLOWED_EXTENSIONS, LOCAL_RESUMABLE_CHUNK_BYTES, SUPABASE_APP_RESUMABLE_CHUNK_BYTES } from "@/lib/storage/limits";
import { formatBytes } from "@/lib/format";
import { canWrite, requireOrg } from "@/lib/web/page-auth";

export const metadata: Metadata = { title: "Upload" };

export default async function UploadPage({
  params,
  searchParams,
}: {
  params: Promise<{ org: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { org: slug } = await params;
  const sp = await searchParams;
  const { principal, services, org } = await requireOrg(slug);
  const maxBytes = services.platform.config.maxUploadBytes;
  // Supabase Storage takes resumable uploads in 6 MiB chunks (our endpoint streams them on as they come).
  const chunkBytes = services.platform.uploads.backend === "supabase" ? SUPABASE_APP_RESUMABLE_CHUNK_BYTES : LOCAL_RESUMABLE_CHUNK_BYTES;

  if (!canWrite(org)) {
    return (
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold tracking-tight">Upload</h1>
        <div className="card p-6" role="status" data-testid="upload-read-only">
          <p className="font-medium">Your role in {org.name} is read-only.</p>
          <p className="mt-1 text-sm text-slate-600">
            Viewers can browse and download models but not upload them. Ask an owner or admin of {org.name} for the member role (see{" "}
            <Link href={`/orgs/${slug}/members`} className="text-brand-700 underline">
              Members
            </Link>
            ).
          </p>
        </div>
      </div>
    );
  }

  const page = await services.catalog.listModels(principal, slug, { sort: "name", limit: 200 });
  const models = page.items.map((m) => ({
    slug: m.slug,
    name: m.name,
    task_type: m.task_type,
    framework: m.framework,
    description: m.description,
    tags: m.tags,
    latest_version: m.latest_version,
  }));
  const preselect = typeof sp.model === "string" ? sp.model : undefined;

  return (
    <div className="space-y-5">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">Upload models</h1>
        <p className="text-sm text-slate-600">Add a new model to {org.name}, or a new version of one it already has.</p>
      </div>
      <div className="grid gap-6 xl:grid-cols-[minmax(0,1fr)_18rem]">
        <UploadWorkspace org={slug} maxBytes={maxBytes} models={models} preselect={preselect} chunkBytes={chunkBytes} />
        <aside className="card h-fit p-4 text-sm text-slate-700" aria-labelledby="upload-help">
          <h2 id="upload-help" className="mb-2 font-medium text-slate-900">
            What happens to a file
          </h2>
          <ol className="list-decimal space-y-1.5 pl-5">
            <li>The version number is reserved before any byte is sent (a taken number is refused at once).</li>
            <li>
              A folder is one version of all its files. Files are hashed in the browser first: what {org.name} already stores is not sent
              again (and not billed twice).
            </li>
            <li>Bytes go up in {formatBytes(chunkBytes)} chunks; pause, a lost connection or a reload can continue.</li>
            <li>The server checks size and SHA-256, detects the format and scans for code that runs on load.</li>
            <li>
              Dangerous files are <strong>quarantined</strong>: stored, but only admins can download them.
            </li>
          </ol>
          <p className="mt-3 text-xs text-slate-500">
            Accepted: {ALLOWED_EXTENSIONS.map((e) => `.${e}`).join(" ")} · max {formatBytes(maxBytes)} per file.
            {page.next_cursor ? " The model list shows the first 200 models by name; type a new name for others." : ""}
          </p>
        </aside>
      </div>
    </div>
  );
}
