/**
 * Text Postgres can store: no U+0000, and no lone UTF-16 surrogate ("\ud800" is valid JSON and a
 * valid JS string, but text and jsonb refuse it). Every piece of text a client sends passes this.
 */
export const isCleanText = (s: string) => !s.includes("\u0000") && s.isWellFormed();
