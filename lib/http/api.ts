import "server-only";
import { toResponse } from "@/lib/errors";
import { getServices } from "@/lib/services/services";
import { requestMetaFrom, requirePrincipal } from "./caller";

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

/** JSON with no caching (every API answer is per-user). */
export function json(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("cache-control", "no-store");
  return Response.json(body, { ...init, headers });
}

/** The verified caller of an API request, the services and request metadata for the audit trail. */
export async function apiCaller(req: Request) {
  const services = await getServices();
  const principal = await requirePrincipal(req, services);
  return { principal, services, meta: requestMetaFrom(req.headers) };
}
