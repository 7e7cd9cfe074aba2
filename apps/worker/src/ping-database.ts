import type { Db } from "@distillery/db";

/** Fails fast, naming DATABASE_URL, when the database cannot be reached or is not migrated. */
export async function pingDatabase(db: Db, redactedUrl: string): Promise<void> {
  try {
    await db.$queryRaw`SELECT 1`;
  } catch (e) {
    throw new Error(`DATABASE_URL: cannot reach PostgreSQL at ${redactedUrl}: ${(e as Error).message}`);
  }
  const rows = await db.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM information_schema.tables WHERE table_name = '_prisma_migrations'`;
  if (Number(rows[0]?.n ?? 0) === 0) {
    throw new Error(
      `DATABASE_URL: the database at ${redactedUrl} has no migrations applied; run \`npm run db:migrate\``,
    );
  }
}
