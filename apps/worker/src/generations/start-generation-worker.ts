import { join, resolve } from "node:path";
import type { Db } from "@distillery/db";
import { createProducer, QUEUES } from "@distillery/jobs";
import { createBlobStore } from "@distillery/storage";
import { resolveSecretKey } from "@distillery/teacher";
import { requeueStaleGenerationJobs } from "@distillery/teacher/store";
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { resolveStatsTokenizer } from "../datasets/resolve-stats-tokenizer.ts";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";
import { createGenerationProcessor } from "./process-generation.ts";

/**
 * The generations queue: one BullMQ worker (a few jobs at once; each sends its own requests
 * concurrently), and a reaper that re-queues jobs whose worker stopped heartbeating (kill -9,
 * a lost machine), so they resume elsewhere with the rows already stored.
 */
export async function startGenerationWorker(options: {
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
  const producer = createProducer(options.connection, env.QUEUE_PREFIX);
  const shutdown = new AbortController();
  const enqueue = async (p: { generationJobId: string; workspaceId: string }) => {
    await producer.enqueue(QUEUES.generations, p, { jobId: `${p.generationJobId}-${Date.now()}` });
  };
  const worker = new Worker(
    QUEUES.generations,
    createGenerationProcessor({
      db,
      store,
      log,
      workerId: options.workerId,
      secretKey,
      resolveStats: (workspaceId) => resolveStatsTokenizer(db, store, { workspaceId }),
      heartbeatMs: env.WORKER_HEARTBEAT_MS,
      shutdownSignal: shutdown.signal,
      enqueue,
    }),
    {
      connection: options.connection,
      prefix: env.QUEUE_PREFIX,
      concurrency: 4,
      lockDuration: 60_000,
      maxStalledCount: 1,
    },
  );
  worker.on("failed", (job, err) => log.error({ jobId: job?.id, err: err.message }, "generation job failed"));
  const reaper = setInterval(
    () => {
      requeueStaleGenerationJobs(db, env.RUN_STALE_AFTER_MS)
        .then(async (jobs) => {
          for (const j of jobs) {
            log.warn({ generationJobId: j.id }, "generation job's worker stopped heartbeating: re-queued");
            await enqueue({ generationJobId: j.id, workspaceId: j.workspaceId });
          }
          // a queued row whose enqueue was lost (Redis down at the time): one queue job per state of
          // the row (the id carries updatedAt, so BullMQ drops repeats); the claim decides who runs it
          const stuck = await db.generationJob.findMany({
            where: {
              status: "queued",
              cancelRequestedAt: null,
              updatedAt: { lt: new Date(Date.now() - env.QUEUE_SWEEP_GRACE_MS) },
            },
            select: { id: true, workspaceId: true, updatedAt: true },
            take: 100,
          });
          for (const j of stuck) {
            await producer.enqueue(
              QUEUES.generations,
              { generationJobId: j.id, workspaceId: j.workspaceId },
              { jobId: `${j.id}-sweep-${j.updatedAt.getTime()}` },
            );
          }
        })
        .catch((e: Error) => log.warn({ err: e.message }, "reaping stale generation jobs failed"));
    },
    Math.max(1_000, Math.floor(env.RUN_STALE_AFTER_MS / 3)),
  );
  return {
    worker,
    /** hands running jobs back (they resume elsewhere), then closes */
    async stop() {
      clearInterval(reaper);
      shutdown.abort();
      await worker.close();
      await producer.close();
    },
  };
}
