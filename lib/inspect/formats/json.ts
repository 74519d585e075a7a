import { checkTemplate } from "./gguf";
import { checkRemoteCode, classifyJson } from "./json-configs";
import { JsonCollector, JsonTokenizer, parseUbjson } from "./json-stream";
import { feederHandler, type FormatHandler, type HandlerContext } from "../handler";
import { findSecrets } from "../secrets";

/** JSON and UBJSON documents: XGBoost models, LLM configs, Prophet/ARIMA configs — secrets scanned at any depth. */
export function createJsonHandler(ctx: HandlerContext, kind: "json" | "ubjson"): FormatHandler {
  const { report } = ctx;
  const collector = new JsonCollector((key, value, path) => {
    for (const hit of findSecrets(key, value)) {
      report.danger(`secret-${hit.kind}`, `embedded credential (${hit.kind}): ${hit.redacted}`, path() || undefined);
    }
    if (key === "chat_template") checkTemplate(report, value, path() || "chat_template");
  });

  const finish = (error: string | null) => {
    if (error) {
      report.format = "unknown";
      report.fail("json-invalid", `not a readable ${kind === "json" ? "JSON" : "UBJSON"} document: ${error}`);
      return;
    }
    const c = classifyJson(collector.root, collector, report, kind === "ubjson");
    checkRemoteCode(collector.root, report);
    report.format = c.format;
    report.framework = c.framework;
    report.metadata = c.metadata;
    if (c.format !== "unknown") return;
    // the uploaded file itself: a JSON document is stored as unknown format (tokenizers, configs); inside an archive it is data
    if (ctx.top)
      report.info(
        "unknown-format",
        "a JSON document that matches no model layout we know: stored as unknown format after a scan for credentials",
      );
    else report.fail("json-not-a-model", "JSON does not match any known model or configuration layout");
  };

  if (kind === "ubjson") {
    return feederHandler(
      ctx,
      "ubjson",
      () => parseUbjson(collector, ctx.size ?? Number.MAX_SAFE_INTEGER),
      () => finish(report.isInvalid ? "UBJSON stream is broken" : null),
    );
  }
  const tok = new JsonTokenizer(collector);
  return {
    write: (c) => tok.write(c),
    end: () => tok.end(),
    finish: () => finish(tok.error),
  };
}
