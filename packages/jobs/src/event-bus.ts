import type { EngineEvent } from "@distillery/core";
import type { Redis } from "ioredis";

/**
 * Live run events over Redis pub/sub: the worker publishes each engine event as it arrives; web
 * processes hold one pattern subscription and fan out to their SSE clients. Pub/sub carries only
 * the live tail: Postgres holds every event, and SSE replays from it first (see the web's stream).
 */
export const runChannel = (runId: string, prefix = "distillery") => `${prefix}:run-events:${runId}`;

/** a sorted set: member runId, score the highest seq ever published for it */
const publishedSeqKey = (prefix = "distillery") => `${prefix}:run-published-seq`;

/**
 * Publishes events and records, per run, the highest seq published (ZADD GT: never lowered).
 * Live events run ahead of Postgres, so after a crash a resumed run must number its stream
 * after this mark, not after the last persisted event: a browser that saw the lost events live
 * would otherwise take new events for ones it already has.
 */
export async function publishRunEvents(redis: Redis, events: EngineEvent[], prefix?: string): Promise<void> {
  if (events.length === 0) return;
  const pipeline = redis.pipeline();
  const highest = new Map<string, number>();
  for (const e of events) {
    pipeline.publish(runChannel(e.runId, prefix), JSON.stringify(e));
    highest.set(e.runId, Math.max(highest.get(e.runId) ?? -1, e.seq));
  }
  for (const [runId, seq] of highest) pipeline.zadd(publishedSeqKey(prefix), "GT", seq, runId);
  await pipeline.exec();
}

/** The highest seq ever published for the run, or null when none was (or it was forgotten). */
export async function getPublishedSeq(redis: Redis, runId: string, prefix?: string): Promise<number | null> {
  const score = await redis.zscore(publishedSeqKey(prefix), runId);
  return score === null ? null : Number(score);
}

/** Drops the run's mark once it has finished and every event is persisted. */
export async function forgetPublishedSeq(redis: Redis, runId: string, prefix?: string): Promise<void> {
  await redis.zrem(publishedSeqKey(prefix), runId);
}

/** One subscriber connection shared by every listener of this process. */
export function createRunEventHub(subscriber: Redis, prefix = "distillery") {
  const listeners = new Map<string, Set<(e: EngineEvent) => void>>();
  const pattern = `${prefix}:run-events:*`;
  let subscribed: Promise<unknown> | undefined;
  subscriber.on("pmessage", (_pattern: string, channel: string, message: string) => {
    const runId = channel.slice(pattern.length - 1);
    const set = listeners.get(runId);
    if (!set) return;
    let event: EngineEvent;
    try {
      event = JSON.parse(message) as EngineEvent;
    } catch {
      return;
    }
    for (const l of set) l(event);
  });
  /**
   * While Redis is down the subscription waits in ioredis's offline queue (sent on its return):
   * a caller must not wait with it, or an SSE stream opened during an outage would replay
   * nothing from PostgreSQL until Redis is back. Nothing is published meanwhile, and a live
   * event after a hole makes the stream read the hole from PostgreSQL.
   */
  const untilLiveOrDown = (subscription: Promise<unknown>) =>
    new Promise<void>((resolve, reject) => {
      if (subscriber.status === "reconnecting") return resolve();
      const onDown = () => {
        subscriber.off("reconnecting", onDown);
        resolve();
      };
      subscriber.on("reconnecting", onDown);
      subscription.then(
        () => onDown(),
        (e: unknown) => {
          subscriber.off("reconnecting", onDown);
          reject(e);
        },
      );
    });
  return {
    /** Resolves once the subscription is live, or at once while Redis is down; returns the unsubscribe function. */
    async subscribe(runId: string, listener: (e: EngineEvent) => void): Promise<() => void> {
      if (!subscribed) {
        const attempt = subscriber.psubscribe(pattern);
        subscribed = attempt;
        // a failed subscription is tried again by the next caller, not kept for every later one
        attempt.catch(() => {
          if (subscribed === attempt) subscribed = undefined;
        });
      }
      await untilLiveOrDown(subscribed);
      let set = listeners.get(runId);
      if (!set) {
        set = new Set();
        listeners.set(runId, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(runId);
      };
    },
    listenerCount: () => [...listeners.values()].reduce((n, s) => n + s.size, 0),
  };
}
export type RunEventHub = ReturnType<typeof createRunEventHub>;
