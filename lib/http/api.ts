import "server-only";
import { requirePrincipal } from "@/lib/auth/principal";
import { AppError, toResponse } from "@/lib/errors";
import { getModelStorageFor } from "@/lib/storage/service";
import type { RequestMeta } from "@/lib/storage/model-storage";

type Handler<C> = (req: Request, ctx: C) => Promise<Response>;

/** Wraps a route handler: any thrown error becomes the one JSON error shape (toResponse). */
export function apiRoute<C>(fn: Handler<C>): Handler<C> {
  return async (req, ctx) => {
    try {
      return await fn(req, ctx);
    } catch (e) {
      return toResponse(e, { "cache-control": "no-store" });
    }
  };
}

/** Client address and agent for the audit trail. */
export function requestMeta(req: Request): RequestMeta {
  const fwd = req.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return { ip: fwd || req.headers.get("x-real-ip") || undefined, userAgent: req.headers.get("user-agent") ?? undefined };
}

/** JSON with no caching (every API answer is per-user). */
export function json(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("cache-control", "no-store");
  return Response.json(body, { ...init, headers });
}

/** The caller of an API request and the ModelStorage acting for them. */
export async function apiCaller(req: Request) {
  const principal = await requirePrincipal(req);
  return { principal, storage: await getModelStorageFor(principal), meta: requestMeta(req) };
}

/** Parses a JSON request body (bounded) or throws a 400. */
export async function readJson(req: Request, maxBytes = 64 * 1024): Promise<unknown> {
  const text = await req.text();
  if (text.length > maxBytes) throw new AppError("payload_too_large", "The JSON body is too large.");
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    throw new AppError("bad_request", "The body is not valid JSON.");
  }
}
