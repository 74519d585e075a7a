import "server-only";
import type { Principal } from "@/lib/auth/principal";
import { withUser } from "@/lib/db/client";
import type { Database, Queryable } from "@/lib/db/types";
import type { Platform } from "@/lib/platform/types";

export interface ServiceDeps {
  db: Database;
  platform: Platform;
}

/** What every service shares: its dependencies, and running SQL as the caller (RLS decides). */
export abstract class Service {
  constructor(protected readonly deps: ServiceDeps) {}

  protected get config() {
    return this.deps.platform.config;
  }

  /** Runs `fn` in one transaction under the caller's verified claims. */
  protected as<T>(p: Principal, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return withUser(this.deps.db, p.claims, fn);
  }
}
