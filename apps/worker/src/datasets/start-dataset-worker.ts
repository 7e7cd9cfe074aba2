import { join, resolve } from "node:path";
import type { Db } from "@distillery/db";
import { QUEUES } from "@distillery/jobs";
import { createBlobStore } from "@distillery/storage";
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";
import { createDatasetProcessor } from "./dataset-processor.ts";

/** The one BullMQ worker for the datasets queue (imports, filters, splits). */
export function startDatasetWorker(options: {
  db: Db;
  env: WorkerEnv;
  log: Logger;
  workerId: string;
  connection: Redis;
}) {
  const { env } = options;
  const store = createBlobStore({ ...env, blobDir: join(resolve(env.DISTILLERY_DATA_DIR), "blobs") });
  const worker = new Worker(
    QUEUES.datasets,
    createDatasetProcessor({ db: options.db, store, workerId: options.workerId }),
    { connection: options.connection, prefix: env.QUEUE_PREFIX, concurrency: 2 },
  );
  worker.on("failed", (job, err) =>
    options.log.error({ jobId: job?.id, err: err.message }, "dataset job failed"),
  );
  return worker;
}
