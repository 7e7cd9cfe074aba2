import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { ensureDatabase, startEmbeddedPostgres } from "./start-postgres.ts";
import { startRedis } from "./start-redis.ts";
import type { Supervisor } from "./supervisor.ts";

export interface ServiceUrls {
  databaseUrl: string;
  /** admin URL on the same server (to create per-test databases); undefined when not known */
  adminDatabaseUrl?: string;
  redisUrl: string;
  blobDir: string;
  isEmbeddedDatabase: boolean;
  isEmbeddedRedis: boolean;
}

/**
 * The embedded defaults: PostgreSQL, Redis and a blob folder under `dataDir`, each only when
 * its production setting (DATABASE_URL, REDIS_URL, S3_*) is absent.
 */
export async function startServices(options: {
  dataDir: string;
  supervisor: Supervisor;
  databaseUrl?: string;
  redisUrl?: string;
  databaseName?: string;
  /** test mode: throwaway data, free ports */
  isEphemeral?: boolean;
  pgPort?: number;
  redisPort?: number;
  log?: (message: string) => void;
}): Promise<ServiceUrls> {
  const log = options.log ?? console.log;
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  let databaseUrl = options.databaseUrl;
  let adminDatabaseUrl: string | undefined;
  if (!databaseUrl) {
    const pg = await startEmbeddedPostgres({
      dataDir: join(dataDir, "postgres"),
      port: options.pgPort,
      persistent: !options.isEphemeral,
      log: (m) => {
        if (/ready to accept|FATAL|ERROR|initialising/.test(m)) log(m);
      },
    });
    options.supervisor.add("postgres", pg.stop);
    adminDatabaseUrl = pg.adminUrl;
    databaseUrl = await ensureDatabase(pg.adminUrl, options.databaseName ?? "distillery");
    log(`[postgres] ready on 127.0.0.1:${pg.port}`);
  }
  let redisUrl = options.redisUrl;
  if (!redisUrl) {
    const redis = await startRedis({
      dataDir: join(dataDir, "redis"),
      port: options.redisPort,
      persistent: !options.isEphemeral,
      log,
    });
    options.supervisor.add("redis", redis.stop);
    redisUrl = redis.url;
  }
  const blobDir = join(dataDir, "blobs");
  mkdirSync(blobDir, { recursive: true });
  return {
    databaseUrl,
    adminDatabaseUrl,
    redisUrl,
    blobDir,
    isEmbeddedDatabase: !options.databaseUrl,
    isEmbeddedRedis: !options.redisUrl,
  };
}
