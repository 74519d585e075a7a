import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { refuseByContent } from "./sniff-dropped";

// The browser's early refusal on real bytes (Node's File is the browser's): what it refuses, what it lets through.
const fixture = (name: string) => new File([fs.readFileSync(`test/fixtures/models/${name}`)], name);
const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61", "hex");

describe("refuseByContent", () => {
  it("refuses an image, a PDF and an HTML page under model names, saying what each is", async () => {
    const files = [
      new File([PNG, Buffer.alloc(2048, 1)], "weights.pt"),
      new File([Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "latin1")], "model.pkl"),
      new File(["<!DOCTYPE html><html><body>404</body></html>"], "model.onnx"),
    ];
    const { accepted, refused } = await refuseByContent(files);
    expect(accepted).toEqual([]);
    expect(refused.map((r) => [r.file.name, r.what])).toEqual([
      ["weights.pt", "a PNG image"],
      ["model.pkl", "a PDF document"],
      ["model.onnx", "an HTML page"],
    ]);
    expect(refused[0]!.message).toBe("This is a PNG image, not a model file.");
  });

  it("refuses random bytes under a name that promises a format, and an empty file", async () => {
    const { refused } = await refuseByContent([new File([Buffer.alloc(4096, 0xa7)], "model.safetensors"), new File([], "empty.pkl")]);
    expect(refused.map((r) => r.file.name)).toEqual(["model.safetensors", "empty.pkl"]);
    expect(refused[0]!.message).toContain("The name says .safetensors");
  });

  it("lets real model files through, and unknown bytes under a generic name", async () => {
    const files = [
      fixture("credit_risk_v2.1.pkl"),
      fixture("churn_model_v1.onnx"),
      fixture("fraud_detection_v1.5.2.h5"),
      new File([Buffer.alloc(4096, 0xa7)], "weights.bin"),
    ];
    const { accepted, refused } = await refuseByContent(files);
    expect(refused).toEqual([]);
    expect(accepted).toEqual(files);
  });

  it("does not judge files inside a dropped folder (a model folder may hold images)", async () => {
    const png = new File([PNG], "diagram.png");
    Object.defineProperty(png, "webkitRelativePath", { value: "my-model/diagram.png" });
    const { accepted, refused } = await refuseByContent([png]);
    expect(refused).toEqual([]);
    expect(accepted).toEqual([png]);
  });
});
