import { toAppError } from "@/lib/errors";

/** tus hooks and stores reject with {status_code, body}: give them our one JSON error shape. */
export const tusError = (e: unknown) => {
  const err = toAppError(e);
  return { status_code: err.status, body: JSON.stringify(err.toJSON()) };
};

/** Runs `fn`, turning any failure into tus's rejection shape. */
export async function asTus<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw tusError(e);
  }
}
