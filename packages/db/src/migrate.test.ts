import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MigrationError, runMigrations } from "./migrate.ts";
import { MIGRATIONS_DIR } from "./test-database.ts";
import { testAdminDatabaseUrl } from "./test-env.ts";

let adminUrl: string;
const created: string[] = [];

async function freshDatabase(): Promise<string> {
  const name = `distillery_m_${Math.random().toString(16).slice(2, 10)}`;
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`CREATE DATABASE "${name}"`);
  await c.end();
  created.push(name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

beforeAll(() => {
  adminUrl = testAdminDatabaseUrl();
});
afterAll(async () => {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  for (const name of created) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await c.end();
});

describe("runMigrations", () => {
  it("applies the project's migrations once and records them as Prisma does", async () => {
    const url = await freshDatabase();
    const first = await runMigrations(url, MIGRATIONS_DIR);
    expect(first.applied.length).toBeGreaterThan(0);
    const second = await runMigrations(url, MIGRATIONS_DIR);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(first.applied);
    const rows = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date;
      applied_steps_count: number;
    }>(url, `SELECT * FROM "_prisma_migrations"`);
    expect(rows).toHaveLength(first.applied.length);
    expect(rows[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]?.finished_at).toBeInstanceOf(Date);
    expect(rows[0]?.applied_steps_count).toBe(1);
    const tables = await query<{ tablename: string }>(
      url,
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`,
    );
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining(["Run", "RunEvent", "Worker", "Workspace"]),
    );
  });

  it("is safe when several processes migrate at once", async () => {
    const url = await freshDatabase();
    const results = await Promise.all([1, 2, 3, 4].map(() => runMigrations(url, MIGRATIONS_DIR)));
    const appliedCounts = results.map((r) => r.applied.length).sort();
    expect(appliedCounts.filter((n) => n > 0)).toHaveLength(1);
    const rows = await query(url, `SELECT * FROM "_prisma_migrations"`);
    expect(rows).toHaveLength(Math.max(...appliedCounts));
  });

  it("rolls a failed migration back whole, records it, and refuses to run past it", async () => {
    const url = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), "migrations-"));
    for (const [name, sql] of [
      ["001_ok", `CREATE TABLE a (id int);`],
      ["002_bad", `CREATE TABLE b (id int);\nINSERT INTO nope VALUES (1);`],
      ["003_later", `CREATE TABLE c (id int);`],
    ] as const) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, "migration.sql"), sql);
    }
    await expect(runMigrations(url, dir)).rejects.toThrow(/002_bad failed: .*nope/);
    const tables = (
      await query<{ tablename: string }>(url, `SELECT tablename FROM pg_tables WHERE schemaname='public'`)
    ).map((t) => t.tablename);
    expect(tables).toContain("a");
    expect(tables).not.toContain("b"); // the failed migration left nothing half-applied
    expect(tables).not.toContain("c");
    const error = await runMigrations(url, dir).catch((e) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).migration).toBe("002_bad");
    expect((error as Error).message).toMatch(/failed earlier and blocks/);
  });
});
