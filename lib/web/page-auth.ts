import "server-only";
import { notFound, redirect } from "next/navigation";
import type { Principal } from "@/lib/auth/principal";
import { isAppError } from "@/lib/errors";
import { getServices } from "@/lib/services/services";
import type { Org } from "@/lib/storage/types";

/** The signed-in user of a page, or a redirect to sign in. */
export async function requireUser(next?: string): Promise<Principal> {
  const p = await (await getServices()).platform.auth.principalFromCookies();
  if (!p) redirect(next ? `/sign-in?next=${encodeURIComponent(next)}` : "/sign-in");
  return p;
}

/** The org of an /orgs/[org] page; a 404 for a stranger's or unknown org (RLS decides). */
export async function requireOrg(slug: string) {
  const principal = await requireUser(`/orgs/${slug}`);
  const services = await getServices();
  let org: Org;
  try {
    org = await services.catalog.getOrg(principal, slug);
  } catch (e) {
    if (isAppError(e) && e.code === "not_found") notFound();
    throw e;
  }
  return { principal, services, org };
}

/** Calls a service function and turns not_found into the 404 page. */
export async function orNotFound<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (isAppError(e) && e.code === "not_found") notFound();
    throw e;
  }
}

export const canWrite = (org: Pick<Org, "role">) => org.role !== "viewer";
export const isAdmin = (org: Pick<Org, "role">) => org.role === "owner" || org.role === "admin";
