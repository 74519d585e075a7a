// Opens the database when the server starts (not on the first request), so the first start of the
// embedded default creates its schema and demo before anyone signs in — and a database that cannot
// be opened (locked by another process, unreachable) is reported at once.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  const { getServices } = await import("@/lib/services/services");
  const { ensureDemo } = await import("@/lib/demo/seed");
  try {
    await ensureDemo(await getServices());
  } catch (e) {
    // /api/health and the UI banner keep reporting it.
    console.error("[fairmind] could not open the database:", (e as Error).message);
  }
}
