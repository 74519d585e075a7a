import { ERRORS, toResponse } from "@/lib/errors";

// /api itself is not an endpoint: the API's error shape, not the HTML 404 page ([...path] covers below it).
const notFound = () => toResponse(ERRORS.noSuchEndpoint());

export const GET = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;
export const HEAD = notFound;
