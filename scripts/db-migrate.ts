// `npm run db:migrate`: applies prisma/migrations to DATABASE_URL (production and docker-compose).
import { join } from "node:path";
import { runMigrations } from "@distillery/db";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL: is required (e.g. postgresql://user:pass@host:5432/distillery)");
  process.exit(1);
}
runMigrations(url, join(import.meta.dirname, "..", "prisma", "migrations"))
  .then((r) => {
    console.log(`applied: ${r.applied.join(", ") || "none"}; already applied: ${r.alreadyApplied.length}`);
    if (r.modified.length > 0) console.warn(`warning: changed after being applied: ${r.modified.join(", ")}`);
  })
  .catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
