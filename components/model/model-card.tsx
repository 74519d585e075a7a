import ReactMarkdown from "react-markdown";
import rehypeSanitize, { defaultSchema } from "rehype-sanitize";
import remarkGfm from "remark-gfm";
import { parse as parseYaml } from "yaml";

// A model card (README.md) rendered as Markdown, safely: raw HTML is not rendered (react-markdown
// escapes it), the tree is sanitized (GitHub's allow-list: no script, no event handlers, no
// javascript: URLs), and images are shown only from this version's own files — a remote image would
// tell a third party who read the card, so it becomes a plain link.

/**
 * Hugging Face cards start with YAML front matter (license, tags…): shown as a small table instead.
 * Parsed with the yaml library's core schema (data only: no custom tags, nothing runs); lists become
 * "a, b, c"; nested objects and anything unparsable are left out.
 */
export function splitFrontMatter(markdown: string): { meta: [string, string][]; body: string } {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(markdown);
  if (!m) return { meta: [], body: markdown };
  let parsed: unknown;
  try {
    parsed = parseYaml(m[1]!, { schema: "core", maxAliasCount: 10 });
  } catch {
    parsed = null;
  }
  const meta: [string, string][] = [];
  if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      const scalar = (x: unknown) => typeof x === "string" || typeof x === "number" || typeof x === "boolean";
      const text = scalar(v) ? String(v) : Array.isArray(v) && v.every(scalar) ? v.map(String).join(", ") : "";
      if (text) meta.push([k.slice(0, 60), text.slice(0, 200)]);
    }
  }
  return { meta: meta.slice(0, 20), body: markdown.slice(m[0].length) };
}

const schema = {
  ...defaultSchema,
  // No ids or names from the card: they could collide with (or clobber) the page's own.
  clobberPrefix: "card-",
};

export function ModelCard({ markdown, fileUrl }: { markdown: string; fileUrl: (path: string) => string | null }) {
  const { meta, body } = splitFrontMatter(markdown);
  return (
    <div data-testid="model-card">
      {meta.length ? (
        <dl className="mb-3 flex flex-wrap gap-2 text-xs">
          {meta.map(([k, v]) => (
            <div key={k} className="rounded bg-slate-100 px-2 py-0.5">
              <dt className="inline text-slate-500">{k}: </dt>
              <dd className="inline font-medium text-slate-700">{v}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      <div className="prose-card max-w-none text-sm leading-relaxed text-slate-800">
        <ReactMarkdown
          remarkPlugins={[remarkGfm]}
          rehypePlugins={[[rehypeSanitize, schema]]}
          skipHtml
          components={{
            img: ({ src, alt }) => {
              const own = typeof src === "string" ? fileUrl(src) : null;
              // eslint-disable-next-line @next/next/no-img-element
              if (own) return <img src={own} alt={alt ?? ""} className="my-2 max-h-96 max-w-full rounded border border-slate-200" />;
              return typeof src === "string" && /^https?:\/\//i.test(src) ? (
                <a href={src} rel="noopener noreferrer nofollow" target="_blank" className="text-brand-700 underline">
                  [image: {alt || src}]
                </a>
              ) : (
                <span className="text-slate-500">[image: {alt || "not in this version"}]</span>
              );
            },
            a: ({ href, children }) => (
              <a
                href={href}
                rel="noopener noreferrer nofollow"
                target={href?.startsWith("#") ? undefined : "_blank"}
                className="text-brand-700 underline"
              >
                {children}
              </a>
            ),
            pre: ({ children }) => (
              <pre tabIndex={0} className="my-2 overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100">
                {children}
              </pre>
            ),
            table: ({ children }) => (
              <div className="my-2 overflow-x-auto">
                <table className="text-xs">{children}</table>
              </div>
            ),
          }}
        >
          {body}
        </ReactMarkdown>
      </div>
    </div>
  );
}
