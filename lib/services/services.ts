import "server-only";
import { TokenService } from "@/lib/auth/api-tokens";
import { AuditService } from "@/lib/audit/audit";
import type { Database } from "@/lib/db/types";
import { OrgService } from "@/lib/orgs/orgs";
import { getPlatform } from "@/lib/platform/platform";
import type { Platform } from "@/lib/platform/types";
import { AliasService } from "@/lib/storage/aliases";
import { CatalogService } from "@/lib/storage/catalog";
import { DownloadService } from "@/lib/storage/downloads";
import { UploadService } from "@/lib/storage/uploads";
import { VersionFileService } from "@/lib/storage/version-files";
import { UsageService } from "@/lib/usage/usage";
import { WebhookService } from "@/lib/webhooks/webhooks";

/** Every service, over one platform and its database: what route handlers, actions and pages call. */
export interface Services {
  platform: Platform;
  db: Database;
  catalog: CatalogService;
  uploads: UploadService;
  files: VersionFileService;
  downloads: DownloadService;
  aliases: AliasService;
  tokens: TokenService;
  orgs: OrgService;
  audit: AuditService;
  usage: UsageService;
  webhooks: WebhookService;
}

/** The composition root: services share the platform (auth, blob stores) and the database. */
export function createServices(platform: Platform, db: Database): Services {
  const deps = { platform, db };
  return {
    platform,
    db,
    catalog: new CatalogService(deps),
    uploads: new UploadService(deps),
    files: new VersionFileService(deps),
    downloads: new DownloadService(deps),
    aliases: new AliasService(deps),
    tokens: new TokenService(deps),
    orgs: new OrgService(deps),
    audit: new AuditService(deps),
    usage: new UsageService(deps),
    webhooks: new WebhookService(deps),
  };
}

const STATE = globalThis as unknown as { __fairmindServices?: Promise<Services> };

/** The process services: the process platform, once its database is open (and, local modes, migrated). */
export function getServices(): Promise<Services> {
  STATE.__fairmindServices ??= (async () => {
    const platform = getPlatform();
    return createServices(platform, await platform.database());
  })().catch((e) => {
    STATE.__fairmindServices = undefined;
    throw e;
  });
  return STATE.__fairmindServices;
}
