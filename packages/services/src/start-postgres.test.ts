import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { findPostgresNativeDir } from "./postgres-install.ts";
import { startEmbeddedPostgres } from "./start-postgres.ts";
import { startRedis } from "./start-redis.ts";

const isRoot = process.getuid?.() === 0;
const processGroupOf = (pid: number) =>
  Number(
    execFileSync("ps", ["-o", "pgid=", "-p", String(pid)])
      .toString()
      .trim(),
  );

// A checkout in a private folder (root's home, `mktemp -d`): the postgres user cannot traverse
// it, which made initdb fail with EACCES. The binaries are reached through a link inside the
// 0700 folder, exactly as a checkout there would reach its node_modules.
describe.skipIf(!isRoot)("embedded PostgreSQL from a 0700 folder, as root", () => {
  const privateDir = mkdtempSync(join(tmpdir(), "distillery-private-"));
  afterAll(() => rmSync(privateDir, { recursive: true, force: true }));

  it("starts, serves and stops, with binaries and data where the postgres user can reach them", {
    timeout: 180_000,
  }, async () => {
    chmodSync(privateDir, 0o700);
    expect(statSync(privateDir).mode & 0o777).toBe(0o700);
    const nativeLink = join(privateDir, "native");
    symlinkSync(findPostgresNativeDir(), nativeLink);
    const logs: string[] = [];
    const pgHandle = await startEmbeddedPostgres({
      dataDir: join(privateDir, ".data", "postgres"),
      nativeDir: nativeLink,
      persistent: false,
      log: (m) => logs.push(m),
    });
    try {
      expect(pgHandle.dataDir.startsWith(privateDir)).toBe(false);
      expect(logs.join("\n")).toMatch(/cannot reach .*private/);
      const client = new pg.Client({ connectionString: pgHandle.adminUrl });
      await client.connect();
      const { rows } = await client.query("SELECT current_setting('server_version_num')::int AS v");
      await client.end();
      expect(rows[0].v).toBeGreaterThanOrEqual(170000);
      // its own process group: the terminal's Ctrl-C goes to the supervisor, not to PostgreSQL
      expect(processGroupOf(pgHandle.pid ?? 0)).toBe(pgHandle.pid);
    } finally {
      await pgHandle.stop();
    }
  });
});

describe("embedded Redis", () => {
  it("stops a server left behind by a killed supervisor before using its data folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "distillery-redis-"));
    const leftover = await startRedis({ dataDir: dir, persistent: true });
    const logs: string[] = [];
    // the supervisor died without stopping it: a new start on the same folder
    const next = await startRedis({ dataDir: dir, persistent: true, log: (m) => logs.push(m) });
    try {
      expect(logs.join("\n")).toMatch(new RegExp(`stopping a leftover server \\(pid ${leftover.pid}\\)`));
      expect(() => process.kill(leftover.pid ?? 0, 0)).toThrow();
    } finally {
      await next.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs in its own process group", async () => {
    const dir = mkdtempSync(join(tmpdir(), "distillery-redis-"));
    const redis = await startRedis({ dataDir: dir, persistent: false });
    try {
      expect(processGroupOf(redis.pid ?? 0)).toBe(redis.pid);
      expect(processGroupOf(redis.pid ?? 0)).not.toBe(processGroupOf(process.pid));
    } finally {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
