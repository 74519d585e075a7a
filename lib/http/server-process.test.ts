import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { APP_NODE_OPTIONS, appNodeOptions, HEAP_GROWTH_V8_FLAG } from "./server-process";

/** The largest the young generation grows in a child started with `nodeOptions`, in MiB, under steady garbage. */
function youngGenerationMiB(nodeOptions: string): number {
  const script = `
    const v8 = require("node:v8");
    let max = 0, keep = [];
    for (let i = 0; i < 150000; i++) {
      keep.push(new Array(100).fill(i));
      if (keep.length > 20000) keep = [];
      if (i % 1000 === 0) max = Math.max(max, v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size);
    }
    process.stdout.write(String(max / 1048576));`;
  return Number(execFileSync(process.execPath, ["-e", script], { env: { ...process.env, NODE_OPTIONS: nodeOptions }, encoding: "utf8" }));
}

describe("the app's process options", () => {
  it("npm start passes them to next start, before the caller's own NODE_OPTIONS", () => {
    const scripts = JSON.parse(fs.readFileSync("package.json", "utf8")).scripts as Record<string, string>;
    expect(scripts.start).toContain(`NODE_OPTIONS="${APP_NODE_OPTIONS} \${NODE_OPTIONS:-}" next start`);
    expect(scripts.demo).toMatch(/npm run start$/);
    // The bench's own process is the client of its measurements: started the same way.
    expect(scripts.bench).toContain(`NODE_OPTIONS="${APP_NODE_OPTIONS} \${NODE_OPTIONS:-}" tsx`);
  });

  it("adds ours to a caller's options, and leaves a semi-space size the caller chose", () => {
    expect(appNodeOptions(undefined)).toBe(APP_NODE_OPTIONS);
    expect(appNodeOptions("--enable-source-maps")).toBe(`${APP_NODE_OPTIONS} --enable-source-maps`);
    expect(appNodeOptions("--max-semi-space-size=32")).toBe("--max-semi-space-size=32");
  });

  it("really lets the young generation grow past Node's default", () => {
    const byDefault = youngGenerationMiB("");
    const ours = youngGenerationMiB(appNodeOptions(""));
    expect(byDefault).toBeLessThanOrEqual(32);
    expect(ours).toBeGreaterThan(byDefault);
    expect(ours).toBeGreaterThan(32);
  });

  it("sets the heap's growing factor at start, and V8 uses it for the next limit (not only its own pick)", () => {
    expect(fs.readFileSync("instrumentation.ts", "utf8")).toMatch(/\btuneHeapGrowth\(\);/);
    const limits = (setFlag: boolean) => {
      const script = `
        ${setFlag ? `require("node:v8").setFlagsFromString(${JSON.stringify(HEAP_GROWTH_V8_FLAG)});` : ""}
        const keep = [];
        for (let i = 0; i < 300000; i++) keep.push({ i });
        gc();
        gc();`;
      const out = execFileSync(process.execPath, ["--expose-gc", "--trace-gc-verbose", "-e", script], {
        env: { ...process.env, NODE_OPTIONS: "" },
        encoding: "utf8",
      });
      // e.g. "[HeapController] Limit: old size: 15019 KB, new limit: 68133 KB (4.0)"
      return [...out.matchAll(/\[HeapController\] Limit: .*\((\d+\.\d+)\)/g)].map((m) => Number(m[1]));
    };
    const picked = limits(false);
    const ours = limits(true);
    expect(picked.length).toBeGreaterThan(0);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.every((f) => f === 2)).toBe(true);
  });
});
