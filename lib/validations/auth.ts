import { z } from "zod";
import { isCleanText } from "./text";

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ message: "Enter a valid e-mail address." }))
  .pipe(z.string().max(254));

export const signInSchema = z.object({
  email: emailSchema,
  password: z.string().min(1, "Enter your password.").max(1024),
});
export type SignInInput = z.infer<typeof signInSchema>;

export const signUpSchema = z.object({
  email: emailSchema,
  password: z.string().min(10, "Use at least 10 characters.").max(1024),
  // A form without the field sends null: an absent display name, not an error.
  displayName: z
    .string()
    .trim()
    .max(100)
    .refine(isCleanText, "Text may not contain NUL characters or broken Unicode.")
    .nullish()
    .transform((v) => v || undefined),
});
export type SignUpInput = z.infer<typeof signUpSchema>;
