import { describe, expect, it } from "vitest";
import { ALLOWED_EXTENSIONS } from "@/lib/storage/limits";
import { FRAMEWORKS } from "@/lib/validations/models";
import { compareVersions, createSpeedMeter, frameworkForFile, parseFileName, suggestNextVersion } from "./upload-helpers";
import { formatDuration } from "@/lib/format";
import { parseTags } from "@/lib/validations/models";

describe("upload helpers", () => {
  it("pre-fills the framework from the extension, for every allowed extension", () => {
    expect(frameworkForFile("credit_risk_v2.1.pkl")).toBe("scikit-learn");
    expect(frameworkForFile("m.JOBLIB")).toBe("scikit-learn");
    expect(frameworkForFile("m.pth")).toBe("pytorch");
    expect(frameworkForFile("m.safetensors")).toBe("pytorch");
    expect(frameworkForFile("m.keras")).toBe("tensorflow-keras");
    expect(frameworkForFile("m.ubj")).toBe("xgboost");
    expect(frameworkForFile("m.lgb")).toBe("lightgbm");
    expect(frameworkForFile("m.gguf")).toBe("llm");
    expect(frameworkForFile("m.json")).toBe("llm");
    expect(frameworkForFile("m.exe")).toBeUndefined();
    for (const ext of ALLOWED_EXTENSIONS) expect(FRAMEWORKS).toContain(frameworkForFile(`x.${ext}`));
  });

  it("reads model and version from guide-style file names", () => {
    expect(parseFileName("credit_risk_v2.1.pkl")).toEqual({ slug: "credit_risk", name: "Credit risk", version: "2.1" });
    expect(parseFileName("fraud_detection_v1.5.2.h5")).toMatchObject({ slug: "fraud_detection", version: "1.5.2" });
    expect(parseFileName("churn_model_v1.onnx")).toMatchObject({ slug: "churn_model", version: "1" });
    expect(parseFileName("Sentiment Full Model.pt")).toEqual({
      slug: "sentiment_full_model",
      name: "Sentiment full model",
      version: undefined,
    });
    expect(parseFileName("v2.pkl").slug).toBe("v2");
  });

  it("suggests the next free version in the same shape, never reusing one", () => {
    expect(suggestNextVersion([])).toBe("1.0");
    expect(suggestNextVersion(["2.1"])).toBe("2.2");
    expect(suggestNextVersion(["1.5.2", "1.10.0", "1.9"])).toBe("1.10.1");
    expect(suggestNextVersion(["3"])).toBe("4");
    expect(suggestNextVersion(["1.0.0-rc.1"])).toBe("1.0.1");
    expect(suggestNextVersion(["1.0", "1.0-rc.1"])).toBe("1.1");
    expect(compareVersions("1.10", "1.9")).toBeGreaterThan(0);
    expect(compareVersions("1.0-rc.1", "1.0")).toBeLessThan(0);
    expect(compareVersions("2", "2.0.0")).toBe(0);
  });

  it("formats durations and parses tags", () => {
    expect(formatDuration(12.4)).toBe("12 s");
    expect(formatDuration(200)).toBe("3 min 20 s");
    expect(formatDuration(3900)).toBe("1 h 5 min");
    expect(formatDuration(Infinity)).toBe("—");
    expect(parseTags(" Finance, tabular  finance ")).toEqual(["finance", "tabular"]);
  });

  it("smooths the transfer speed", () => {
    const meter = createSpeedMeter(1000);
    expect(meter(0, 0)).toBe(0);
    expect(meter(1_000_000, 1000)).toBe(1_000_000);
    const next = meter(3_000_000, 2000); // instant 2 MB/s, smoothed halfway
    expect(next).toBeCloseTo(1_500_000, -3);
  });
});
