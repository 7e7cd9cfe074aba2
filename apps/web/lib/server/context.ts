import "server-only";
import { createDb, type Db } from "@distillery/db";
import {
  createProducer,
  createRedisConnection,
  createRunEventHub,
  type Producer,
  type RunEventHub,
} from "@distillery/jobs";
import { getEnv } from "./env.ts";

interface ServerContext {
  db: Db;
  producer: Producer;
  hub: RunEventHub;
  redis: ReturnType<typeof createRedisConnection>;
}

const globalForContext = globalThis as unknown as { distilleryContext?: ServerContext };

/** Process-wide singletons (one Prisma client, one producer, one subscriber), survive hot reload. */
export function getContext(): ServerContext {
  if (globalForContext.distilleryContext) return globalForContext.distilleryContext;
  const env = getEnv();
  const redis = createRedisConnection(env.REDIS_URL, "producer");
  redis.on("error", () => {});
  const subscriber = createRedisConnection(env.REDIS_URL, "subscriber");
  subscriber.on("error", () => {});
  const context: ServerContext = {
    db: createDb(env.DATABASE_URL),
    producer: createProducer(redis, env.QUEUE_PREFIX),
    hub: createRunEventHub(subscriber, env.QUEUE_PREFIX),
    redis,
  };
  globalForContext.distilleryContext = context;
  return context;
}
