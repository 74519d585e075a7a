/** What every server action answers (STYLE 12): no redirects with query-string messages. */
export type FormState =
  | { status: "idle"; message?: undefined; fieldErrors?: undefined }
  | { status: "success"; message?: string; fieldErrors?: undefined; data?: Record<string, unknown> }
  | { status: "invalid"; message?: string; fieldErrors?: Record<string, string> }
  | { status: "failed"; message: string; fieldErrors?: Record<string, string> };

export const IDLE: FormState = { status: "idle" };
