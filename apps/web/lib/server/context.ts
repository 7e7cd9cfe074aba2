import "server-only";
import { join, resolve } from "node:path";
import { createDb, type Db } from "@distillery/db";
import {
  createProducer,
  createRedisConnection,
  createRedisOutageReporter,
  createRunEventHub,
  type Producer,
  type RunEventHub,
} from "@distillery/jobs";
import { type BlobStore, createBlobStore } from "@distillery/storage";
import { getEnv } from "./env.ts";

interface ServerContext {
  db: Db;
  producer: Producer;
  hub: RunEventHub;
  redis: ReturnType<typeof createRedisConnection>;
  /** datasets, models and artifacts: a folder under DISTILLERY_DATA_DIR, or S3 */
  store: BlobStore;
}

const globalForContext = globalThis as unknown as { distilleryContext?: ServerContext };

/** Process-wide singletons (one Prisma client, one producer, one subscriber), survive hot reload. */
export function getContext(): ServerContext {
  if (globalForContext.distilleryContext) return globalForContext.distilleryContext;
  const env = getEnv();
  // one line when Redis drops and one when it returns (not a stack trace per retry)
  const outages = createRedisOutageReporter(env.REDIS_URL, (level, message) =>
    (level === "warn" ? console.warn : console.log)(`[web] ${message}`),
  );
  // the producer fails fast while Redis is down (launches stay queued in PostgreSQL for the sweeper)
  const redis = outages.watch(createRedisConnection(env.REDIS_URL, "producer"));
  const subscriber = outages.watch(createRedisConnection(env.REDIS_URL, "subscriber"));
  const context: ServerContext = {
    db: createDb(env.DATABASE_URL),
    producer: createProducer(redis, env.QUEUE_PREFIX),
    hub: createRunEventHub(subscriber, env.QUEUE_PREFIX),
    redis,
    store: createBlobStore({ ...env, blobDir: join(resolve(env.DISTILLERY_DATA_DIR), "blobs") }),
  };
  globalForContext.distilleryContext = context;
  return context;
}
