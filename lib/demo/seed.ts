import "server-only";
import fs from "node:fs";
import path from "node:path";
import { toPrincipal } from "@/lib/auth/principal";
import { withService } from "@/lib/db/client";
import { qb, run } from "@/lib/db/query";
import type { Database } from "@/lib/db/types";
import type { Services } from "@/lib/services/services";
import type { OrgRole } from "@/lib/validations/models";
import { FOLDERS, seedFolder } from "./seed-folders";

/** The demo accounts (README lists them). One password for all: this is demo data. */
export const DEMO_PASSWORD = "fairmind-demo";
export const DEMO_USERS: { email: string; name: string; roles: Partial<Record<"demo_org" | "admin_org", OrgRole>> }[] = [
  { email: "alice@demo.org", name: "Alice Owner", roles: { demo_org: "owner" } },
  { email: "bob@demo.org", name: "Bob Engineer", roles: { demo_org: "member" } },
  { email: "vera@demo.org", name: "Vera Viewer", roles: { demo_org: "viewer" } },
  { email: "carol@admin.org", name: "Carol Owner", roles: { admin_org: "owner" } },
  { email: "dan@admin.org", name: "Dan Admin", roles: { admin_org: "admin" } },
  { email: "sam@fairmind.dev", name: "Sam Both", roles: { demo_org: "admin", admin_org: "member" } },
];

const ORGS = [
  { slug: "demo_org", name: "Demo Org", owner: "alice@demo.org" },
  { slug: "admin_org", name: "Admin Org", owner: "carol@admin.org" },
] as const;

type DemoModel = {
  org: "demo_org" | "admin_org";
  file: string;
  model: string;
  version: string;
  name: string;
  task: string;
  tags: string[];
  description: string;
  alias?: string;
};

// The original guide's models: real files made by the real libraries (test/fixtures/models).
const MODELS: DemoModel[] = [
  {
    org: "demo_org",
    file: "credit_risk_v2.1.pkl",
    model: "credit_risk",
    version: "2.1",
    name: "Credit risk",
    task: "classification",
    tags: ["finance", "tabular"],
    description: "Gradient-boosted scorecard for retail credit applications.",
    alias: "production",
  },
  {
    org: "demo_org",
    file: "fraud_detection_v1.5.2.h5",
    model: "fraud_detection",
    version: "1.5.2",
    name: "Fraud detection",
    task: "classification",
    tags: ["finance", "realtime"],
    description: "Dense network scoring card transactions.",
    alias: "production",
  },
  {
    org: "demo_org",
    file: "customer_segmentation_v1.0.pkl",
    model: "customer_segmentation",
    version: "1.0",
    name: "Customer segmentation",
    task: "clustering",
    tags: ["marketing"],
    description: "K-means segments for campaign targeting.",
  },
  {
    org: "demo_org",
    file: "sentiment_analysis_v1.2.1.pt",
    model: "sentiment_analysis",
    version: "1.2.1",
    name: "Sentiment analysis",
    task: "nlp",
    tags: ["nlp", "support"],
    description: "Review sentiment classifier (PyTorch state dict).",
    alias: "staging",
  },
  {
    org: "demo_org",
    file: "chatbot_gpt4_finetuned.json",
    model: "chatbot_gpt4_finetuned",
    version: "1.0",
    name: "Support chatbot (GPT-4 fine-tune)",
    task: "llm",
    tags: ["llm", "support"],
    description: "Configuration of the support chatbot.",
  },
  {
    org: "demo_org",
    file: "claude_content_gen_v1.1.json",
    model: "claude_content_gen",
    version: "1.1",
    name: "Content generation (Claude)",
    task: "llm",
    tags: ["llm", "marketing"],
    description: "Prompting configuration for marketing copy.",
  },
  {
    org: "demo_org",
    file: "medical_diagnosis_v1.0.h5",
    model: "medical_diagnosis",
    version: "1.0",
    name: "Medical diagnosis",
    task: "classification",
    tags: ["health"],
    description: "Triage classifier (research use only).",
  },
  {
    org: "demo_org",
    file: "recommendation_engine_v1.4.pkl",
    model: "recommendation_engine",
    version: "1.4",
    name: "Recommendation engine",
    task: "other",
    tags: ["ecommerce"],
    description: "Item-to-item recommendations bundle.",
  },
  {
    org: "admin_org",
    file: "loan_approval_v3.0.xgb",
    model: "loan_approval",
    version: "3.0",
    name: "Loan approval",
    task: "classification",
    tags: ["finance"],
    description: "XGBoost loan approval model.",
    alias: "production",
  },
  {
    org: "admin_org",
    file: "hiring_assistant_v2.2.h5",
    model: "hiring_assistant",
    version: "2.2",
    name: "Hiring assistant",
    task: "classification",
    tags: ["hr"],
    description: "CV screening assistant weights.",
  },
  {
    org: "admin_org",
    file: "price_optimization_v1.3.pkl",
    model: "price_optimization",
    version: "1.3",
    name: "Price optimization",
    task: "regression",
    tags: ["pricing"],
    description: "Price elasticity regressor.",
  },
  {
    org: "admin_org",
    file: "inventory_forecast_v1.1.json",
    model: "inventory_forecast",
    version: "1.1",
    name: "Inventory forecast",
    task: "time_series",
    tags: ["supply-chain"],
    description: "Prophet model of weekly demand.",
  },
  {
    org: "admin_org",
    file: "legal_assistant_gpt4.json",
    model: "legal_assistant_gpt4",
    version: "1.0",
    name: "Legal assistant (GPT-4)",
    task: "llm",
    tags: ["llm", "legal"],
    description: "Contract review assistant configuration.",
  },
  {
    org: "admin_org",
    file: "code_reviewer_claude.json",
    model: "code_reviewer_claude",
    version: "1.0",
    name: "Code reviewer (Claude)",
    task: "llm",
    tags: ["llm", "engineering"],
    description: "Pull-request reviewer configuration.",
  },
];

export const DEMO_FILES_DIR = path.resolve(process.cwd(), "test/fixtures/models");

const SEEDED_MARK = "demo/seeded";
const ORG_SLUGS = ORGS.map((o) => o.slug);

/**
 * Whether the first-start demo still has to be created: not marked done, and no organization but
 * the demo's exists (an interrupted seed is resumed; a database with real data is left alone).
 */
export async function needsDemo(db: Database): Promise<boolean> {
  const { rows } = await db.query<{ done: boolean; others: number }>(
    `select exists (select 1 from fairmind.schema_migrations where name = $1) as done,
            (select count(*)::int from public.organizations where slug <> all($2)) as others`,
    [SEEDED_MARK, ORG_SLUGS],
  );
  return !rows[0]?.done && rows[0]?.others === 0;
}

/** Records that the demo is complete (so a later start never re-creates what users deleted). */
export async function markDemoSeeded(db: Database): Promise<void> {
  // Only where our runner keeps its table (not on a Supabase project, whose schema `supabase db push` owns).
  const { rows } = await db.query<{ t: string | null }>("select to_regclass('fairmind.schema_migrations')::text as t");
  if (!rows[0]?.t) return;
  await db.query("insert into fairmind.schema_migrations (name, checksum) values ($1, 'demo') on conflict do nothing", [SEEDED_MARK]);
}

/** The embedded default's first start: creates the demo unless it exists (or real data does). */
export async function ensureDemo(services: Services, log: (msg: string) => void = console.log): Promise<void> {
  if (!services.platform.demo || !(await needsDemo(services.db))) return;
  log("[fairmind] first start: creating the demo organizations, users and models…");
  await seedDemo(services, (m) => log(m));
  await markDemoSeeded(services.db);
  log(`[fairmind] demo ready: sign in as alice@demo.org (password ${DEMO_PASSWORD}); the README lists every demo account.`);
}

/**
 * Creates the demo: users (through the platform's auth: auth.users locally, the Auth admin API on
 * Supabase), the two organizations, memberships, and every model uploaded through the upload service
 * as the org's owner, signed in with the demo password (so bytes, hashes, inspection and audit are
 * all real).
 */
export async function seedDemo(services: Services, log: (msg: string) => void = () => {}): Promise<void> {
  const { platform, db } = services;
  const ids = new Map<string, string>();
  for (const u of DEMO_USERS)
    ids.set(u.email, await platform.auth.ensureUser({ email: u.email, password: DEMO_PASSWORD, displayName: u.name }));
  await withService(db, async (tx) => {
    for (const o of ORGS) {
      await run(
        tx,
        qb
          .insertInto("organizations")
          .values({ slug: o.slug, name: o.name, created_by: ids.get(o.owner) })
          .onConflict((oc) => oc.column("slug").doUpdateSet({ name: o.name })),
      );
      const { rows } = await tx.query<{ id: string }>("select id from public.organizations where slug = $1", [o.slug]);
      for (const u of DEMO_USERS) {
        const role = u.roles[o.slug];
        if (!role) continue;
        await run(
          tx,
          qb
            .insertInto("memberships")
            .values({ org_id: rows[0]!.id, user_id: ids.get(u.email)!, role })
            .onConflict((oc) => oc.columns(["org_id", "user_id"]).doUpdateSet({ role })),
        );
      }
    }
  });

  const meta = { ip: "127.0.0.1", userAgent: "fairmind-seed" };
  for (const org of ORGS) {
    const { accessToken } = await platform.auth.signIn({ email: org.owner, password: DEMO_PASSWORD }, meta);
    const p = toPrincipal(await platform.auth.verifyAccessToken(accessToken), "bearer", accessToken);
    const fresh = new Set<string>();
    for (const m of MODELS.filter((x) => x.org === org.slug)) {
      const file = path.join(DEMO_FILES_DIR, m.file);
      const exists = await services.catalog
        .listVersions(p, m.org, m.model)
        .then((vs) => vs.some((v) => v.version === m.version))
        .catch(() => false);
      if (exists) continue;
      await services.uploads.uploadVersion(
        p,
        {
          org: m.org,
          model: m.model,
          version: m.version,
          fileName: m.file,
          body: fs.createReadStream(file),
          contentLength: fs.statSync(file).size,
          metadata: { name: m.name, task_type: m.task as never, description: m.description, tags: m.tags },
        },
        meta,
      );
      if (m.alias) await services.aliases.setAlias(p, m.org, m.model, m.alias, m.version, meta);
      fresh.add(m.model);
      log(`  ${m.org}/${m.model} v${m.version}`);
    }
    if (org.slug === "demo_org") {
      for (const f of FOLDERS) {
        const exists = await services.catalog
          .listVersions(p, org.slug, f.model)
          .then((vs) => vs.some((v) => v.version === f.version))
          .catch(() => false);
        if (exists) continue;
        await seedFolder(services, p, org.slug, f, meta);
        log(`  ${org.slug}/${f.model} v${f.version} (folder)`);
      }
    }
    // A few downloads, so the usage dashboard and the audit log have egress to show.
    for (const m of MODELS.filter((x) => x.org === org.slug && x.alias && fresh.has(x.model))) {
      for (let i = 0; i < 2; i++) {
        const d = await services.downloads.openDownload(p, m.org, m.model, m.version, {}, meta);
        for await (const chunk of d.stream) void chunk;
        await d.recorded;
      }
    }
  }
}

/** Removes the demo organizations and users, for `seed --reset`; the object keys they held. */
export async function removeDemo(services: Services): Promise<string[]> {
  return withService(services.db, async (tx) => {
    const { rows } = await tx.query<{ object_key: string }>(
      `select b.object_key from public.blobs b join public.organizations o on o.id = b.org_id where o.slug = any($1)`,
      [ORG_SLUGS],
    );
    await tx.query("delete from public.organizations where slug = any($1)", [ORG_SLUGS]);
    await tx.query("delete from auth.users where email = any($1)", [DEMO_USERS.map((u) => u.email)]);
    return rows.map((r) => r.object_key);
  });
}
