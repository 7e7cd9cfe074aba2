import { Redis, type RedisOptions } from "ioredis";

/**
 * Redis connections configured as BullMQ recommends: a worker's (blocking) connection must retry
 * forever (`maxRetriesPerRequest: null`); a producer's should fail fast so an HTTP request does
 * not hang while Redis is down.
 */
export function createRedisConnection(url: string, role: "producer" | "worker" | "subscriber"): Redis {
  const options: RedisOptions =
    role === "producer"
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000 }
      : { maxRetriesPerRequest: null, enableReadyCheck: false };
  return new Redis(url, { ...options, lazyConnect: false, connectionName: `distillery-${role}` });
}

/** Resolves when the connection is ready, or rejects with what went wrong (fail fast at start). */
export async function pingRedis(url: string, timeoutMs = 5_000): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  let lastError: Error | undefined;
  redis.on("error", (e: Error) => {
    lastError = e;
  });
  try {
    await redis.connect().catch((e: Error) => {
      throw new Error(`cannot connect to Redis at ${redactUrl(url)}: ${(lastError ?? e).message}`);
    });
    const version = ((await redis.info("server")).match(/redis_version:(\S+)/) ?? [])[1] ?? "0";
    const [major = 0, minor = 0] = version.split(".").map(Number);
    if (major < 6 || (major === 6 && minor < 2)) throw new Error(`Redis ${version} is too old (need ≥ 6.2)`);
  } finally {
    redis.disconnect();
  }
}

/** The URL without its password, for error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}
