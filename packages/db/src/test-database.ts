import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createDb, type Db } from "./client.ts";
import { runMigrations } from "./migrate.ts";

export const MIGRATIONS_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "prisma",
  "migrations",
);

/**
 * A fresh, migrated database for one test file on the server of `adminUrl` (TEST_ADMIN_DATABASE_URL,
 * which the test setup provides), dropped again by `drop()`.
 */
export async function createTestDatabase(
  adminUrl: string,
): Promise<{ url: string; db: Db; drop: () => Promise<void> }> {
  const name = `distillery_t_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await runMigrations(url.toString(), MIGRATIONS_DIR);
  const db = createDb(url.toString(), { max: 5 });
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.$disconnect();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}
