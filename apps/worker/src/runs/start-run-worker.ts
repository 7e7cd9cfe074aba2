import { join } from "node:path";
import type { Db } from "@distillery/db";
import { createProducer, QUEUES, runQueueFor } from "@distillery/jobs";
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";
import type { EngineLauncher } from "./engine-launcher.ts";
import { createRunProcessor } from "./process-run.ts";

/** Engine detectors for capabilities (hf: a GPU and a Python with torch + transformers + peft). */
export function engineDetectors(): { name: string; detect: () => Promise<{ available: boolean; reason?: string }> }[] {
  return [];
}

/** Launchers this worker has, by engine name. */
export function engineLaunchers(_dataDir: string): Map<string, EngineLauncher> {
  return new Map();
}

/** Consumes the run queues of the engines this worker has (an hf run never reaches a CPU worker). */
export function startRunWorker(options: {
  db: Db;
  env: WorkerEnv;
  log: Logger;
  workerId: string;
  connection: Redis;
  publisher: Redis;
  engines: string[];
}) {
  const { env } = options;
  const shutdown = new AbortController();
  const producer = createProducer(options.connection, env.QUEUE_PREFIX);
  const dataDir = join(env.DISTILLERY_DATA_DIR);
  const processor = createRunProcessor({
    db: options.db,
    log: options.log,
    workerId: options.workerId,
    publisher: options.publisher,
    queuePrefix: env.QUEUE_PREFIX,
    dataDir,
    heartbeatMs: env.WORKER_HEARTBEAT_MS,
    launchers: engineLaunchers(dataDir),
    shutdownSignal: shutdown.signal,
    onReleased: async (run) => {
      await producer.enqueue(runQueueFor(run.engine === "hf" ? "hf" : "local"), { runId: run.id, workspaceId: run.workspaceId }, {
        jobId: `${run.id}-released-${Date.now()}`,
      });
    },
  });
  const queues = options.engines.includes("hf") ? [QUEUES.runsLocal, QUEUES.runsHf] : [QUEUES.runsLocal];
  const workers = queues.map(
    (q) =>
      new Worker(q, processor, {
        connection: options.connection,
        prefix: env.QUEUE_PREFIX,
        concurrency: env.WORKER_RUN_CONCURRENCY,
        // a run can train for hours: the job lock is renewed while the processor runs
        lockDuration: 60_000,
        maxStalledCount: 1,
      }),
  );
  for (const w of workers) w.on("failed", (job, err) => options.log.error({ jobId: job?.id, err: err.message }, "run job failed"));
  return {
    worker: { close: () => Promise.all(workers.map((w) => w.close())) },
    async stop() {
      shutdown.abort();
      await producer.close();
    },
  };
}
