// Filled in by the database test harness (prepares a migrated PGlite snapshot once per run).
export default async function setup() {}
