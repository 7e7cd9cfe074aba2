import { join, resolve } from "node:path";
import type { Db } from "@distillery/db";
import { runEvaluation } from "@distillery/evals/evaluations";
import {
  createGpuRegistry,
  createGpuRouting,
  createModelPool,
  createUpstreams,
  isGpuServedModel,
  type ModelPool,
  resolveServableFiles,
  type Upstreams,
} from "@distillery/inference";
import { QUEUES, ZEvaluationPayload } from "@distillery/jobs";
import { createBlobStore } from "@distillery/storage";
import { resolveSecretKey } from "@distillery/teacher";
import { UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";
import { createUpstreamSampler } from "./upstream-sampler.ts";

/** Resident models of this worker's evaluations; the least recently used idle one goes first. */
const MEMORY_BUDGET_BYTES = 4 * 1024 ** 3;
const SLOTS_PER_MODEL = 8;

/**
 * The evaluations queue: the processor is thin (parse, delegate to runEvaluation, report). Models
 * are served by this worker's own model pool (one per workspace), the same code as /v1.
 * Postgres owns each evaluation's state; a job that comes back after a crash resumes it.
 */
export function startEvaluationWorker(options: {
  db: Db;
  env: WorkerEnv;
  log: Logger;
  workerId: string;
  connection: Redis;
}) {
  const { db, env, log } = options;
  const dataDir = resolve(env.DISTILLERY_DATA_DIR);
  const store = createBlobStore({ ...env, blobDir: join(dataDir, "blobs") });
  const cacheDir = join(dataDir, "cache", "evaluations");
  // opens teacher API keys (evaluations of a teacher endpoint)
  const secretKey = resolveSecretKey({ value: env.DISTILLERY_SECRET_KEY, dataDir });
  const pools = new Map<string, ModelPool>();
  const poolFor = (workspaceId: string) => {
    let pool = pools.get(workspaceId);
    if (!pool) {
      pool = createModelPool({
        budgetBytes: MEMORY_BUDGET_BYTES,
        slots: SLOTS_PER_MODEL,
        resolve: (id) => resolveServableFiles(db, store, workspaceId, id, cacheDir),
        log: (m) => log.info(m),
      });
      pools.set(workspaceId, pool);
    }
    return pool;
  };
  // a GPU model (an hf run, a model the CPU engine cannot run) goes to a GPU worker's server,
  // through the same registry and routing as the studio's /v1
  const registry = createGpuRegistry(options.connection, { prefix: env.QUEUE_PREFIX });
  const upstreamsByWorkspace = new Map<string, Upstreams>();
  const upstreamsFor = (workspaceId: string) => {
    let upstreams = upstreamsByWorkspace.get(workspaceId);
    if (!upstreams) {
      upstreams = createUpstreams({
        ...createGpuRouting({
          workspaceId,
          registry,
          isGpuModel: (id) => isGpuServedModel(db, workspaceId, id),
          log: (m) => log.info(m),
        }),
        log: (m) => log.info(m),
      });
      upstreamsByWorkspace.set(workspaceId, upstreams);
    }
    return upstreams;
  };
  const shutdown = new AbortController();
  const worker = new Worker(
    QUEUES.evaluations,
    async (job) => {
      const parsed = ZEvaluationPayload.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`bad evaluation payload: ${parsed.error.message}`);
      const { evaluationId, workspaceId } = parsed.data;
      const outcome = await runEvaluation({
        db,
        store,
        pool: poolFor(workspaceId),
        evaluationId,
        workerId: options.workerId,
        cacheDir,
        signal: shutdown.signal,
        heartbeatMs: env.WORKER_HEARTBEAT_MS,
        secretKey,
        servedSampler: (workspaceId, modelId) => createUpstreamSampler(upstreamsFor(workspaceId), modelId),
      });
      log.info({ evaluationId, outcome }, "evaluation finished");
      return { outcome };
    },
    {
      connection: options.connection,
      prefix: env.QUEUE_PREFIX,
      concurrency: 2,
      lockDuration: 60_000,
      maxStalledCount: 2,
    },
  );
  worker.on("failed", (job, err) => log.error({ jobId: job?.id, err: err.message }, "evaluation job failed"));
  return {
    worker,
    async stop() {
      shutdown.abort();
      await worker.close();
      await Promise.all([...pools.values()].map((p) => p.close()));
    },
  };
}
