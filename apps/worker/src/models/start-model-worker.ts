import { join, resolve } from "node:path";
import type { Db } from "@distillery/db";
import { QUEUES } from "@distillery/jobs";
import { createBlobStore } from "@distillery/storage";
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";
import { createModelProcessor } from "./model-processor.ts";

/** The one BullMQ worker for the models queue (Hub downloads, uploaded folders, paths). */
export function startModelWorker(options: {
  db: Db;
  env: WorkerEnv;
  log: Logger;
  workerId: string;
  connection: Redis;
}) {
  const { env, log } = options;
  const dataDir = resolve(env.DISTILLERY_DATA_DIR);
  const store = createBlobStore({ ...env, blobDir: join(dataDir, "blobs") });
  const worker = new Worker(
    QUEUES.models,
    createModelProcessor({
      db: options.db,
      store,
      workerId: options.workerId,
      workDir: join(dataDir, "model-work"),
    }),
    { connection: options.connection, prefix: env.QUEUE_PREFIX, concurrency: 2 },
  );
  worker.on("failed", (job, err) => log.error({ jobId: job?.id, err: err.message }, "model job failed"));
  return worker;
}
