// Prints the anon and service_role keys for a JWT secret, as env lines:
//   SUPABASE_TEST_JWT_SECRET=… npx tsx scripts/supabase-lane/keys.ts
import { signApiKey } from "../../test/supabase/support/tokens";

const secret = process.env.SUPABASE_TEST_JWT_SECRET;
if (!secret || secret.length < 32) {
  console.error("set SUPABASE_TEST_JWT_SECRET (32+ characters)");
  process.exit(2);
}
void (async () => {
  console.log(`SUPABASE_TEST_ANON_KEY=${await signApiKey(secret, "anon")}`);
  console.log(`SUPABASE_TEST_SERVICE_KEY=${await signApiKey(secret, "service_role")}`);
})();
