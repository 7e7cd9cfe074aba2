import type { Redis } from "ioredis";
import { redactUrl } from "./connections.ts";

/** errors that only say Redis is unreachable (the outage line covers them) */
const CONNECTION_ERROR =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|Connection is closed|connect ETIMEDOUT|Stream isn't writeable|MaxRetriesPerRequest|Redis is unreachable/i;

export function isRedisConnectionError(e: unknown): boolean {
  return CONNECTION_ERROR.test(String((e as Error)?.message ?? e));
}

/**
 * One line when Redis becomes unreachable, one when it is back, however many connections,
 * BullMQ workers and queues the process holds (ioredis retries every connection on its own;
 * without this each retry of each connection printed a stack trace). Errors that are not about
 * the connection are still logged, one line each.
 */
export function createRedisOutageReporter(
  url: string,
  log: (level: "warn" | "info", message: string) => void,
) {
  const connections = new Set<Redis>();
  let since: number | undefined;
  const where = redactUrl(url);
  const markDown = (redis: Redis, e: Error) => {
    if (since !== undefined) return;
    since = Date.now();
    const code = (e as { code?: string }).code ?? e.message;
    log(
      "warn",
      `Redis at ${where} is unreachable (${code}); retrying. Queued work waits in PostgreSQL until it is back.`,
    );
  };
  // One connection ready again means Redis answers again. Waiting for every connection that
  // failed would wait for ever on one closed while it was retrying: ioredis emits no "end" for a
  // connection disconnected between reconnect attempts (seen as a missing "back" line).
  const markUp = () => {
    if (since === undefined) return;
    log("info", `Redis at ${where} is back after ${((Date.now() - since) / 1000).toFixed(1)} s`);
    since = undefined;
  };
  return {
    /** Reports this connection's drops and returns. */
    watch(redis: Redis): Redis {
      connections.add(redis);
      redis.on("error", (e: Error) => {
        if (isRedisConnectionError(e) || redis.status !== "ready") markDown(redis, e);
        else log("warn", `Redis error: ${e.message}`);
      });
      redis.on("ready", markUp);
      redis.on("end", () => {
        connections.delete(redis);
      });
      return redis;
    },
    /** BullMQ workers and queues re-emit their connections' errors: only new kinds are logged. */
    quiet<T extends { on(event: "error", listener: (e: Error) => void): unknown }>(
      emitter: T,
      name: string,
    ): T {
      emitter.on("error", (e: Error) => {
        if (!isRedisConnectionError(e)) log("warn", `${name}: ${e.message}`);
      });
      return emitter;
    },
    isDown: () => since !== undefined,
  };
}
export type RedisOutageReporter = ReturnType<typeof createRedisOutageReporter>;
