import { AppError, toResponse } from "@/lib/errors";

// Unknown API paths answer in the API's error shape, not with the HTML 404 page. This also catches
// paths that the router normalised away from a real route (e.g. `%2e%2e` segments).
const notFound = () => toResponse(new AppError("not_found", "No such API endpoint."));

export const GET = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;
export const HEAD = notFound;
