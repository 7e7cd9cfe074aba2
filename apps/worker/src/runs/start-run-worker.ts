import { join, resolve } from "node:path";
import type { Db } from "@distillery/db";
import { resolveEvaluateCommand } from "@distillery/evals";
import { createProducer, QUEUES, QueueUnavailableError, type RedisOutageReporter } from "@distillery/jobs";
import { createBlobStore } from "@distillery/storage";
import { resolveSecretKey } from "@distillery/teacher";
import { detectHfEngine } from "@distillery/trainer-hf";
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";
import { enqueueRun } from "../queue-maintenance.ts";
import type { EngineLauncher } from "./engine-launcher.ts";
import { createHfLauncher } from "./hf-launcher.ts";
import { createLocalLauncher } from "./local-launcher.ts";
import { createRunProcessor } from "./process-run.ts";

/** Engine detectors for capabilities (hf: a GPU and a Python with torch + transformers + peft). */
export function engineDetectors(env: WorkerEnv) {
  if (env.HF_ENGINE === "0") return [];
  return [{ name: "hf", detect: () => detectHfEngine({ python: env.DISTILLERY_PYTHON }) }];
}

/** Consumes the run queues of the engines this worker has (an hf run never reaches a CPU worker). */
export async function startRunWorker(options: {
  db: Db;
  env: WorkerEnv;
  log: Logger;
  workerId: string;
  connection: Redis;
  publisher: Redis;
  outages?: RedisOutageReporter;
  engines: string[];
  gpuCount: number;
}) {
  const { env } = options;
  const shutdown = new AbortController();
  const producer = createProducer(options.connection, env.QUEUE_PREFIX);
  const dataDir = resolve(env.DISTILLERY_DATA_DIR);
  const store = createBlobStore({ ...env, blobDir: join(dataDir, "blobs") });
  const cacheDir = join(dataDir, "cache");
  const launchers = new Map<string, EngineLauncher>([
    [
      "local",
      createLocalLauncher({
        store,
        cacheDir,
        evaluate: resolveEvaluateCommand,
        secretKey: resolveSecretKey({ value: env.DISTILLERY_SECRET_KEY, dataDir }),
      }),
    ],
  ]);
  if (options.engines.includes("hf")) {
    launchers.set(
      "hf",
      createHfLauncher({
        store,
        cacheDir,
        python: env.DISTILLERY_PYTHON,
        gpuCount: options.gpuCount,
        evaluate: resolveEvaluateCommand,
        secretKey: resolveSecretKey({ value: env.DISTILLERY_SECRET_KEY, dataDir }),
      }),
    );
  }
  const processor = createRunProcessor({
    db: options.db,
    log: options.log,
    workerId: options.workerId,
    publisher: options.publisher,
    queuePrefix: env.QUEUE_PREFIX,
    dataDir,
    heartbeatMs: env.WORKER_HEARTBEAT_MS,
    launchers,
    store,
    shutdownSignal: shutdown.signal,
    // an interrupted (released) run goes to the head of its queue; while Redis is down it stays
    // queued in PostgreSQL and the queue sweep enqueues it later
    enqueueRun: async (run, options) => {
      await enqueueRun(producer, run, {
        jobId: `${run.id}-${Date.now()}`,
        isInterrupted: options?.isInterrupted ?? false,
      }).catch((e: Error) => {
        if (!(e instanceof QueueUnavailableError)) throw e;
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
  for (const w of workers) options.outages?.quiet(w, "run worker");
  for (const w of workers)
    w.on("failed", (job, err) => options.log.error({ jobId: job?.id, err: err.message }, "run job failed"));
  return {
    worker: { close: () => Promise.all(workers.map((w) => w.close())) },
    async stop() {
      shutdown.abort();
      await producer.close();
    },
  };
}
