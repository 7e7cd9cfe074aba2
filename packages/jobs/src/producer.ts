import { type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { PAYLOADS, type PayloadInputOf, type PayloadOf } from "./payloads.ts";
import { DEFAULT_PREFIX, JOBS, QUEUES } from "./queues.ts";

type QueueKey = keyof typeof PAYLOADS;
const JOB_NAME: Record<QueueKey, string> = {
  [QUEUES.echo]: JOBS.echo,
  [QUEUES.runsLocal]: JOBS.trainRun,
  [QUEUES.runsHf]: JOBS.trainRun,
  [QUEUES.datasets]: JOBS.datasetImport,
  [QUEUES.models]: JOBS.modelAdd,
};

/** Typed producers for every queue; payloads are validated before they reach Redis. */
export function createProducer(connection: Redis, prefix = DEFAULT_PREFIX) {
  const queues = new Map<QueueKey, Queue>();
  const queue = (name: QueueKey) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection, prefix });
      queues.set(name, q);
    }
    return q;
  };
  return {
    async enqueue<Q extends QueueKey>(name: Q, payload: PayloadInputOf<Q>, opts: JobsOptions = {}) {
      const data: PayloadOf<Q> = PAYLOADS[name].parse(payload) as PayloadOf<Q>;
      return queue(name).add(JOB_NAME[name], data, {
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 5000 },
        ...opts,
      });
    },
    queue,
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}
export type Producer = ReturnType<typeof createProducer>;
