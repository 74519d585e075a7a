import { migrate } from "@/lib/db/migrate";
import { openPostgres } from "@/lib/db/postgres";
const db = openPostgres(process.argv[2]!);
await migrate(db);
await db.close();
