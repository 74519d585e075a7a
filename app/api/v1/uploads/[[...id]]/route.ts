import { handleTus } from "@/lib/http/resumable";

// Resumable uploads (tus 1.0): POST creates (and reserves the version), PATCH appends, HEAD resumes,
// DELETE cancels. IMPORTANT: this path must stay outside proxy.ts's matcher (bodies > 10 MB).
const handle = (req: Request) => handleTus(req);

export const POST = handle;
export const PATCH = handle;
export const HEAD = handle;
export const DELETE = handle;
export const OPTIONS = handle;
