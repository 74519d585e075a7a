import type { z } from "zod";

// The shape of one documented operation (lib/http/openapi.ts generates the document from these).

export type Method = "get" | "post" | "put" | "patch" | "delete" | "head";

export interface Operation {
  summary: string;
  description?: string;
  query?: z.ZodObject;
  headers?: { name: string; description: string; schema?: z.ZodType; required?: boolean }[];
  body?: z.ZodType | { raw: string };
  ok: { status: number; description: string; schema?: z.ZodType; raw?: string };
  errors: number[];
  public?: boolean;
}
