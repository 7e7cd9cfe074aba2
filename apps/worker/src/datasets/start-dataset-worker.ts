import { join, resolve } from "node:path";
import type { Db } from "@distillery/db";
import {
  JOB_SCHEDULERS,
  JOBS,
  QUEUES,
  type RedisOutageReporter,
  retryWhileRedisIsDown,
} from "@distillery/jobs";
import { createBlobStore } from "@distillery/storage";
import { type Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";
import { createDatasetProcessor } from "./dataset-processor.ts";

/** How often uploads are swept: a quarter of the retention period, between 1 minute and 1 hour. */
export const uploadSweepEveryMs = (retentionMs: number) =>
  Math.min(3_600_000, Math.max(60_000, Math.floor(retentionMs / 4)));

/**
 * The upload sweep as a BullMQ job scheduler on the datasets queue: every worker upserts the
 * same scheduler id at start, so the fleet sweeps once per interval (the sweep is also safe to
 * run twice: every step is a conditional update).
 */
export function scheduleUploadSweep(queue: Queue, everyMs: number) {
  return queue.upsertJobScheduler(
    JOB_SCHEDULERS.datasetUploadSweep,
    { every: everyMs },
    {
      name: JOBS.sweepDatasetUploads,
      data: { op: "sweep-uploads" },
      opts: { removeOnComplete: { count: 20 }, removeOnFail: { count: 50 } },
    },
  );
}

/** The one BullMQ worker for the datasets queue (imports, filters, splits, the upload sweep). */
export async function startDatasetWorker(options: {
  db: Db;
  env: WorkerEnv;
  log: Logger;
  workerId: string;
  connection: Redis;
  /** the datasets queue, to upsert the sweep's scheduler (asked again on each try) */
  queue: () => Queue;
  outages?: RedisOutageReporter;
}) {
  const { env, log } = options;
  const store = createBlobStore({ ...env, blobDir: join(resolve(env.DISTILLERY_DATA_DIR), "blobs") });
  const uploadRetentionMs = env.DATASET_UPLOAD_RETENTION_HOURS * 3_600_000;
  const worker = new Worker(
    QUEUES.datasets,
    createDatasetProcessor({
      db: options.db,
      store,
      workerId: options.workerId,
      uploadRetentionMs,
      logError: ({ jobId, err }, message) =>
        log.error({ jobId, err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, message),
    }),
    { connection: options.connection, prefix: env.QUEUE_PREFIX, concurrency: 2 },
  );
  options.outages?.quiet(worker, "dataset worker");
  worker.on("failed", (job, err) => log.error({ jobId: job?.id, err: err.message }, "dataset job failed"));
  worker.on("completed", (job, result: { expired?: number; released?: number; adopted?: number }) => {
    if (job.name !== JOBS.sweepDatasetUploads) return;
    if (result.expired || result.released || result.adopted) log.info(result, "swept dataset uploads");
  });
  // Not awaited: Redis dropping while the worker started stopped it ("cannot start: Reached the
  // max retries per request limit"). Every worker upserts the same id, so a late one is harmless.
  retryWhileRedisIsDown(() => scheduleUploadSweep(options.queue(), uploadSweepEveryMs(uploadRetentionMs)), {
    isStopped: () => worker.closing !== undefined,
  }).catch((e: Error) => {
    if (worker.closing === undefined)
      log.warn({ err: e.message }, "scheduling the dataset upload sweep failed");
  });
  return worker;
}
