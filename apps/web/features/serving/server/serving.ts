import "server-only";
import { join, resolve } from "node:path";
import {
  createGpuRegistry,
  createGpuRouting,
  createModelPool,
  createUpstreams,
  type GpuRegistry,
  isGpuServedModel,
  listServableModels,
  type ModelPool,
  parseGpuServers,
  resolveServableFiles,
  UnknownModelError,
  type Upstreams,
  type V1Deps,
} from "@distillery/inference";
import { getContext } from "@/lib/server/context.ts";
import { getEnv } from "@/lib/server/env.ts";

/** Resident models share this much memory; the least recently used idle one is evicted first. */
const MEMORY_BUDGET_BYTES = 4 * 1024 ** 3;
/** sequences a model decodes together (its KV slots) */
const SLOTS_PER_MODEL = 8;

const globalForServing = globalThis as unknown as {
  distilleryServing?: Map<string, ModelPool>;
  distilleryUpstreams?: Map<string, Upstreams>;
  distilleryGpuRegistry?: GpuRegistry;
};

/**
 * One model pool per workspace and web process (survives hot reload): models load on demand
 * into their own processes, each running a continuous batching loop.
 */
export function getModelPool(workspaceId: string): ModelPool {
  globalForServing.distilleryServing ??= new Map();
  const pools = globalForServing.distilleryServing;
  let pool = pools.get(workspaceId);
  if (!pool) {
    const { db, store } = getContext();
    const cacheDir = join(resolve(getEnv().DISTILLERY_DATA_DIR), "cache", "serving");
    pool = createModelPool({
      budgetBytes: MEMORY_BUDGET_BYTES,
      slots: SLOTS_PER_MODEL,
      resolve: async (id) => {
        const known = await listServableModels(db, workspaceId);
        if (!known.some((m) => m.id === id)) throw new UnknownModelError(id);
        return resolveServableFiles(db, store, workspaceId, id, cacheDir);
      },
      log: (m) => console.log(m),
    });
    pools.set(workspaceId, pool);
  }
  return pool;
}

/**
 * The GPU servers of the studio (apps/worker's GPU serving registers them in Redis, under the
 * queue prefix). An entry is gone once its worker missed 5 heartbeats (the worker writes how long that is).
 */
function getGpuRegistry(): GpuRegistry {
  globalForServing.distilleryGpuRegistry ??= createGpuRegistry(getContext().redis, {
    prefix: getEnv().QUEUE_PREFIX,
  });
  return globalForServing.distilleryGpuRegistry;
}

/**
 * The models of this workspace served on a GPU: those DISTILLERY_GPU_SERVERS maps to a server
 * (a static override), and the GPU models (an hf run, a model the CPU engine cannot run) that
 * GPU workers serve on demand — a request asks a worker to load one, waits while it loads
 * (listed as loading; 503 model_loading with Retry-After if it takes too long) and marks the
 * model used (the workers evict the least recently used first). /v1 validates and forwards.
 */
export function getUpstreams(workspaceId: string): Upstreams {
  globalForServing.distilleryUpstreams ??= new Map();
  const all = globalForServing.distilleryUpstreams;
  let upstreams = all.get(workspaceId);
  if (!upstreams) {
    const { db } = getContext();
    upstreams = createUpstreams({
      ...createGpuRouting({
        workspaceId,
        registry: getGpuRegistry(),
        staticServers: parseGpuServers(getEnv().DISTILLERY_GPU_SERVERS),
        // only a model this workspace holds (else the CPU path answers model_not_found)
        isKnown: async (id) => (await listServableModels(db, workspaceId)).some((m) => m.id === id),
        isGpuModel: (id) => isGpuServedModel(db, workspaceId, id),
        log: (m) => console.log(m),
      }),
      log: (m) => console.log(m),
    });
    all.set(workspaceId, upstreams);
  }
  return upstreams;
}

/** What the /v1 handlers need for a workspace. */
export function getV1Deps(workspaceId: string): V1Deps {
  return { pool: getModelPool(workspaceId), upstreams: getUpstreams(workspaceId) };
}
