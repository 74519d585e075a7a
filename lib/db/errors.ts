import { AppError, isAppError } from "@/lib/errors";

/** Maps Postgres errors raised by RLS, constraints and our triggers to AppErrors with safe messages. */
export function pgErrorToAppError(
  e: unknown,
  messages: { forbidden?: string; conflict?: string; notFound?: string } = {},
): AppError | unknown {
  if (isAppError(e)) return e;
  const err = e as { code?: string; message?: string };
  switch (err?.code) {
    case "42501": // insufficient_privilege, RLS with-check violations
      return new AppError("forbidden", messages.forbidden ?? "You are not allowed to do that here.");
    case "23505": // unique_violation
      return new AppError("conflict", messages.conflict ?? "That already exists.");
    case "P0002": // no_data_found, raised by our functions
      return new AppError("not_found", messages.notFound ?? err.message ?? "Not found.");
    case "23514": // check_violation
    case "22P02": // invalid_text_representation (bad uuid, bad enum)
    case "23502":
      // IMPORTANT: never the database's own message: it can name tables, columns and values.
      return new AppError("invalid_input", "Some values are not valid.");
    case "23503": // foreign_key_violation
      return new AppError("not_found", messages.notFound ?? "A referenced object does not exist.");
    case "P0001": // raise exception in our triggers: the message is written for users
      return new AppError("conflict", err.message ?? "Not allowed.");
    default:
      return e;
  }
}
