import type { EngineEvent } from "@distillery/core";
import { appendRunEvents, type Db, type RunLease } from "@distillery/db";
import { publishRunEvents } from "@distillery/jobs";
import type { Redis } from "ioredis";

/**
 * Engine events → live subscribers at once (Redis pub/sub) and → Postgres in batches
 * (idempotent on run + seq). Publishing first keeps the live latency low; Postgres stays the
 * record that SSE replays from.
 */
export function createEventPipeline(options: {
  db: Db;
  lease: RunLease;
  publisher: Redis;
  prefix: string;
  flushMs?: number;
  maxBatch?: number;
  onLeaseLost: () => void;
  onError: (e: Error) => void;
}) {
  let pending: EngineEvent[] = [];
  let flushing: Promise<void> = Promise.resolve();
  const flushMs = options.flushMs ?? 250;
  const maxBatch = options.maxBatch ?? 500;

  const flush = (): Promise<void> => {
    if (pending.length === 0) return flushing;
    const batch = pending;
    pending = [];
    flushing = flushing.then(async () => {
      try {
        const inserted = await appendRunEvents(options.db, options.lease, batch);
        if (inserted === null) options.onLeaseLost();
      } catch (e) {
        // keep the batch: the next flush retries it (inserts are idempotent)
        pending = [...batch, ...pending];
        options.onError(e as Error);
      }
    });
    return flushing;
  };
  const timer = setInterval(() => void flush(), flushMs);

  return {
    push(event: EngineEvent) {
      pending.push(event);
      publishRunEvents(options.publisher, [event], options.prefix).catch((e: Error) => options.onError(e));
      if (pending.length >= maxBatch) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
      await flushing;
    },
  };
}
