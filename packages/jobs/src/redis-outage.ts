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
 *
 * "Back" means Redis answered a PING sent after the drop, on any watched connection. A "ready"
 * event alone is not enough: a connection without a ready check (the worker and subscriber
 * roles) is "ready" as soon as TCP connects, and one whose connect was under way when Redis died
 * reports "ready" after another already failed. Both printed "back after 0.0 s" followed by a
 * second "unreachable" line (1 process-level run in 5 under load).
 */
export function createRedisOutageReporter(
  url: string,
  log: (level: "warn" | "info", message: string) => void,
  options: { checkEveryMs?: number } = {},
) {
  const checkEveryMs = options.checkEveryMs ?? 1_000;
  const connections = new Set<Redis>();
  /** connections with a confirming PING in flight (one each: a hung server must not pile them up) */
  const confirming = new Set<Redis>();
  let since: number | undefined;
  /** which outage a confirming PING belongs to: a late answer must not end a later outage */
  let outage = 0;
  let checker: NodeJS.Timeout | undefined;
  const where = redactUrl(url);

  const markUp = () => {
    if (since === undefined) return;
    log("info", `Redis at ${where} is back after ${((Date.now() - since) / 1000).toFixed(1)} s`);
    since = undefined;
    clearInterval(checker);
    checker = undefined;
  };
  const confirm = (redis: Redis) => {
    if (since === undefined || redis.status !== "ready" || confirming.has(redis)) return;
    const current = outage;
    confirming.add(redis);
    redis
      .ping()
      .then(
        () => {
          if (outage === current) markUp();
        },
        () => {},
      )
      .finally(() => confirming.delete(redis));
  };
  const markDown = (e: Error) => {
    if (since !== undefined) return;
    since = Date.now();
    outage += 1;
    const code = (e as { code?: string }).code ?? e.message;
    log(
      "warn",
      `Redis at ${where} is unreachable (${code}); retrying. Queued work waits in PostgreSQL until it is back.`,
    );
    // besides each "ready": a connection that stayed (or became) ready before the drop was
    // noticed emits no new "ready", and one closed between reconnect attempts emits nothing
    checker = setInterval(() => {
      for (const c of connections) confirm(c);
    }, checkEveryMs);
    checker.unref();
  };
  return {
    /** Reports this connection's drops and returns. */
    watch(redis: Redis): Redis {
      connections.add(redis);
      redis.on("error", (e: Error) => {
        if (isRedisConnectionError(e) || redis.status !== "ready") markDown(e);
        else log("warn", `Redis error: ${e.message}`);
      });
      redis.on("ready", () => confirm(redis));
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

/**
 * Runs `task` until it succeeds, again `everyMs` after each failure that only says Redis is
 * unreachable; other errors reject, and so does any once `isStopped()`. For a start-up step (a
 * job scheduler's upsert) that must not stop the process when Redis drops while it starts.
 */
export async function retryWhileRedisIsDown<T>(
  task: () => Promise<T>,
  options: { everyMs?: number; isStopped?: () => boolean } = {},
): Promise<T> {
  for (;;) {
    try {
      return await task();
    } catch (e) {
      if (!isRedisConnectionError(e) || options.isStopped?.()) throw e;
    }
    await new Promise((r) => setTimeout(r, options.everyMs ?? 1_000).unref());
  }
}
