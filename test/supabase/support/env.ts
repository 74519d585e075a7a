// What the lane needs from its environment. Without it the lane reports itself skipped (loudly).
export const LANE_ENV = ["SUPABASE_TEST_URL", "SUPABASE_TEST_ANON_KEY", "SUPABASE_TEST_JWT_SECRET", "SUPABASE_TEST_DB_URL"] as const;

export const missingLaneEnv = (env: NodeJS.ProcessEnv = process.env) => LANE_ENV.filter((k) => !env[k]);

export const LANE_SKIPPED = `SKIPPED: the real-Supabase lane needs ${LANE_ENV.join(", ")} (README "Real Supabase Storage lane")`;

export const laneConfigured = () => missingLaneEnv().length === 0;
