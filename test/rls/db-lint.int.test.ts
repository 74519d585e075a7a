// `supabase db lint` (plpgsql_check over every function in public and storage) must find no errors
// in shim + migrations, applied to a throwaway database on the local Postgres server.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SCRIPT = path.resolve("scripts/db-lint.sh");

// The Supabase CLI's lint needs the server's plpgsql_check extension.
const PG_SHARE = "/usr/share/postgresql";
const HAS_PLPGSQL_CHECK =
  fs.existsSync(PG_SHARE) &&
  fs.readdirSync(PG_SHARE).some((v) => fs.existsSync(path.join(PG_SHARE, v, "extension", "plpgsql_check.control")));
if (!HAS_PLPGSQL_CHECK) {
  console.warn(
    "\n!!! SKIPPING `supabase db lint`: the plpgsql_check extension is not installed on this machine.\n" +
      "!!! Install it with: apt-get install -y postgresql-15-plpgsql-check\n",
  );
}

function runLint(env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [SCRIPT], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

const ERROR_ISSUE = /"level":\s*"error"/;

describe.skipIf(!HAS_PLPGSQL_CHECK)("supabase db lint", () => {
  it("finds no errors in the shim and the migrations", { timeout: 180_000 }, async () => {
    const { code, output } = await runLint();
    expect(output).toContain("Linting schema: public");
    expect(output).toContain("Linting schema: storage");
    expect(output).not.toMatch(ERROR_ISSUE);
    expect(output).not.toMatch(/fail-on is set/);
    expect(output).toContain("No trigger function errors found");
    expect(code, output).toBe(0);
  });

  // Proves the checks are not vacuous: a function that reads a missing column, and a trigger function
  // that writes one (`supabase db lint` alone skips triggers), each fail the same script.
  it("fails on a function with a real error", { timeout: 180_000 }, async () => {
    const canary = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fm-lint-")), "canary.sql");
    fs.writeFileSync(
      canary,
      `create function public.lint_canary() returns integer language plpgsql as $$
       declare n integer;
       begin
         select count(*) into n from public.models where no_such_column = 1;
         return n;
       end $$;
       create function public.lint_canary_trg() returns trigger language plpgsql as $$
       begin
         new.no_such_trigger_column := 1;
         return new;
       end $$;
       create trigger lint_canary before insert on public.models for each row execute function public.lint_canary_trg();`,
    );
    try {
      const { code, output } = await runLint({ DB_LINT_EXTRA_SQL: canary });
      expect(output).toMatch(ERROR_ISSUE);
      expect(output).toContain("no_such_column");
      expect(output).toMatch(/^error \| .*lint_canary_trg\(\) .*no_such_trigger_column/m);
      expect(code).not.toBe(0);
    } finally {
      fs.rmSync(path.dirname(canary), { recursive: true, force: true });
    }
  });
});
