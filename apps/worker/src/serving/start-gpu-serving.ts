import { hostname } from "node:os";
import { join, resolve } from "node:path";
import type { Db } from "@distillery/db";
import {
  createGpuRegistry,
  listServableModels,
  resolveServableFiles,
  UnknownModelError,
} from "@distillery/inference";
import { createRedisConnection } from "@distillery/jobs";
import { createBlobStore } from "@distillery/storage";
import { buildHfServeCommand } from "@distillery/trainer-hf";
import type { Redis } from "ioredis";
import type { WorkerCapabilities } from "../capabilities.ts";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";
import { estimateGpuBytes, startServingWorker } from "./start-serving-worker.ts";

/** Whether this worker serves models on its GPU (it has one, and the hf engine's Python). */
export function canServeOnGpu(env: WorkerEnv, caps: WorkerCapabilities): boolean {
  return env.DISTILLERY_GPU_SERVE !== "0" && caps.gpus.length > 0 && caps.engines.includes("hf");
}

/**
 * The worker's GPU serving, wired to the studio's Postgres (which models a workspace holds),
 * blob storage (their files) and Redis (the GPU registry, under the queue prefix).
 */
export function startGpuServing(options: {
  db: Db;
  env: WorkerEnv;
  log: Logger;
  workerId: string;
  caps: WorkerCapabilities;
  /** the worker's Redis outage reporter: one log line per outage, not an error per retry */
  watch?: (redis: Redis) => Redis;
}) {
  const { db, env, log, caps } = options;
  const dataDir = resolve(env.DISTILLERY_DATA_DIR);
  const store = createBlobStore({ ...env, blobDir: join(dataDir, "blobs") });
  const cacheDir = join(dataDir, "cache", "gpu-serving");
  const firstGpuMb = caps.gpus[0]?.memoryMb ?? 0;
  const budgetBytes = (env.DISTILLERY_GPU_SERVE_BUDGET_MB ?? Math.floor(firstGpuMb * 0.9)) * 1024 ** 2;
  const bindHost = env.DISTILLERY_GPU_SERVE_HOST;
  const advertiseHost =
    env.DISTILLERY_GPU_SERVE_ADVERTISE_HOST ?? (bindHost === "0.0.0.0" ? hostname() : bindHost);
  const watch = options.watch ?? ((r: Redis) => r);
  const connection = watch(createRedisConnection(env.REDIS_URL, "worker"));
  const registry = createGpuRegistry(connection, { prefix: env.QUEUE_PREFIX });
  const serving = startServingWorker({
    registry,
    blocking: watch(createRedisConnection(env.REDIS_URL, "worker")),
    workerId: options.workerId,
    host: caps.host,
    bindHost,
    advertiseHost,
    budgetBytes,
    heartbeatMs: env.WORKER_HEARTBEAT_MS,
    idleTtlMs: env.DISTILLERY_GPU_SERVE_IDLE_TTL_S * 1000,
    resolve: async (workspaceId, modelId) => {
      const known = await listServableModels(db, workspaceId);
      if (!known.some((m) => m.id === modelId)) throw new UnknownModelError(modelId);
      const files = await resolveServableFiles(db, store, workspaceId, modelId, cacheDir);
      return {
        modelDir: files.modelDir,
        ...(files.adapterDir ? { adapterDir: files.adapterDir } : {}),
        bytes: estimateGpuBytes(files.modelDir, files.adapterDir),
      };
    },
    buildCommand: ({ bytes, ...o }) => {
      const cmd = buildHfServeCommand({
        ...o,
        engine: env.DISTILLERY_GPU_SERVE_ENGINE,
        ...(env.DISTILLERY_PYTHON ? { python: env.DISTILLERY_PYTHON } : {}),
      });
      // vLLM takes 90% of the GPU unless told: it gets what the budget counts for this model
      // (transformers ignores the flag; it allocates what it uses)
      const gpuBytes = firstGpuMb * 1024 ** 2;
      if (gpuBytes > 0)
        cmd.args.push("--gpu-memory-fraction", Math.min(0.9, Math.max(0.05, bytes / gpuBytes)).toFixed(3));
      return cmd;
    },
    log: (level, message) => log[level](message),
  });
  log.info(
    { budgetMb: Math.round(budgetBytes / 1024 ** 2), bindHost, advertiseHost },
    "GPU serving ready (models load on demand)",
  );
  return {
    manager: serving.manager,
    async stop() {
      await serving.stop();
      await connection.quit().catch(() => {});
    },
  };
}
