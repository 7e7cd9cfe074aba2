import { join, resolve } from "node:path";
import type { Db } from "@distillery/db";
import { QUEUES, ZTeacherLogitsPayload } from "@distillery/jobs";
import { createBlobStore } from "@distillery/storage";
import { resolveSecretKey } from "@distillery/teacher";
import { UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";
import { processTeacherLogits } from "./process-teacher-logits.ts";

/**
 * The teacher-logits queue: estimates and computations of stored teacher logits (one at a time
 * per worker: the teacher is held in memory). Postgres owns each row's state; the processor is
 * thin (parse, delegate, log).
 */
export function startTeacherLogitsWorker(options: {
  db: Db;
  env: WorkerEnv;
  log: Logger;
  workerId: string;
  connection: Redis;
}) {
  const { db, env, log } = options;
  const dataDir = resolve(env.DISTILLERY_DATA_DIR);
  const store = createBlobStore({ ...env, blobDir: join(dataDir, "blobs") });
  const secretKey = resolveSecretKey({ value: env.DISTILLERY_SECRET_KEY, dataDir });
  const shutdown = new AbortController();
  const worker = new Worker(
    QUEUES.teacherLogits,
    async (job) => {
      const parsed = ZTeacherLogitsPayload.safeParse(job.data);
      if (!parsed.success)
        throw new UnrecoverableError(`bad teacher-logits payload: ${parsed.error.message}`);
      const outcome = await processTeacherLogits(
        {
          db,
          store,
          workerId: options.workerId,
          cacheDir: join(dataDir, "cache", "teacher-logits"),
          workDir: join(dataDir, "teacher-logits"),
          secretKey,
          heartbeatMs: env.WORKER_HEARTBEAT_MS,
          staleAfterMs: env.RUN_STALE_AFTER_MS,
          signal: shutdown.signal,
        },
        parsed.data,
      );
      log.info({ artifactId: parsed.data.artifactId, phase: parsed.data.phase, outcome }, "teacher logits");
      return { outcome };
    },
    {
      connection: options.connection,
      prefix: env.QUEUE_PREFIX,
      concurrency: 1,
      lockDuration: 60_000,
      maxStalledCount: 2,
    },
  );
  worker.on("failed", (job, err) =>
    log.error({ jobId: job?.id, err: err.message }, "teacher-logits job failed"),
  );
  return {
    worker,
    async stop() {
      shutdown.abort();
      await worker.close();
    },
  };
}
