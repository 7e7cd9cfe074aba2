import { type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { PAYLOADS, type PayloadInputOf, type PayloadOf } from "./payloads.ts";
import { DEFAULT_PREFIX, JOBS, QUEUES } from "./queues.ts";
import { isRedisConnectionError } from "./redis-outage.ts";

type QueueKey = keyof typeof PAYLOADS;
const JOB_NAME: Record<QueueKey, string> = {
  [QUEUES.echo]: JOBS.echo,
  [QUEUES.runsLocal]: JOBS.trainRun,
  [QUEUES.runsHf]: JOBS.trainRun,
  [QUEUES.datasets]: JOBS.datasetImport,
  [QUEUES.models]: JOBS.modelAdd,
  [QUEUES.generations]: JOBS.generate,
  [QUEUES.evaluations]: JOBS.evaluate,
  [QUEUES.teacherLogits]: JOBS.teacherLogits,
};

/**
 * Resolves once the connection is ready: at once when it is, after the first attempt when it is
 * connecting (a process that just started), and fails at once while it is reconnecting (down).
 */
async function waitUntilConnected(connection: Redis, timeoutMs: number): Promise<void> {
  if (connection.status === "ready") return;
  if (connection.status === "wait") connection.connect().catch(() => {});
  if (connection.status === "connecting" || connection.status === "connect") {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        connection.off("ready", done);
        connection.off("error", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      connection.once("ready", done);
      connection.once("error", done);
    });
  }
  const status = connection.status as string; // changed by the awaited events
  if (status !== "ready") {
    throw new QueueUnavailableError(`Redis is unreachable (connection ${status})`);
  }
}

/** Redis did not take the job (it is down); the caller's row stays queued for the sweeper. */
export class QueueUnavailableError extends Error {
  /**
   * `instanceof` checks the name: a bundler (Next.js) may load this module twice, and then the
   * class of the thrower is not the class of the catcher (a launch answered 500 for that).
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return (value as Error | null)?.name === "QueueUnavailableError";
  }
  constructor(message: string) {
    super(message);
    this.name = "QueueUnavailableError";
  }
}

/**
 * Typed producers for every queue; payloads are validated before they reach Redis. Enqueueing
 * fails fast while Redis is unreachable (BullMQ would otherwise wait for the connection for as
 * long as the outage lasts): callers keep the row queued and a sweeper enqueues it later.
 */
export function createProducer(
  connection: Redis,
  prefix = DEFAULT_PREFIX,
  options: { timeoutMs?: number } = {},
) {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const queues = new Map<QueueKey, Queue>();
  const queue = (name: QueueKey) => {
    const existing = queues.get(name);
    if (existing) return existing;
    const q = new Queue(name, { connection, prefix });
    // the connection's outages are reported where it was made; a queue only re-emits them
    q.on("error", () => {});
    // A queue starts with a version check (INFO); when Redis drops during it, BullMQ keeps that
    // failure and every later command of the queue rejects with it, for good. The next use of
    // this queue name makes a new one.
    q.waitUntilReady().catch(() => {
      if (queues.get(name) === q) queues.delete(name);
      q.close().catch(() => {});
    });
    queues.set(name, q);
    return q;
  };
  return {
    async enqueue<Q extends QueueKey>(name: Q, payload: PayloadInputOf<Q>, opts: JobsOptions = {}) {
      const data: PayloadOf<Q> = PAYLOADS[name].parse(payload) as PayloadOf<Q>;
      await waitUntilConnected(connection, timeoutMs);
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          queue(name).add(JOB_NAME[name], data, {
            removeOnComplete: { count: 1000 },
            removeOnFail: { count: 5000 },
            ...opts,
          }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new QueueUnavailableError(`Redis did not take the job within ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
      } catch (e) {
        if (e instanceof QueueUnavailableError || !isRedisConnectionError(e)) throw e;
        throw new QueueUnavailableError(`Redis is unreachable: ${(e as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    },
    /** false while Redis is unreachable */
    isAvailable: () => connection.status === "ready",
    queue,
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}
export type Producer = ReturnType<typeof createProducer>;
