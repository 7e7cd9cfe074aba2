import "server-only";
import { join, resolve } from "node:path";
import {
  createModelPool,
  createUpstreams,
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
 * The models of this workspace that a GPU server serves (DISTILLERY_GPU_SERVERS): /v1 validates
 * their requests here and forwards them; they show as loading until the server lists them.
 */
export function getUpstreams(workspaceId: string): Upstreams {
  globalForServing.distilleryUpstreams ??= new Map();
  const all = globalForServing.distilleryUpstreams;
  let upstreams = all.get(workspaceId);
  if (!upstreams) {
    const servers = parseGpuServers(getEnv().DISTILLERY_GPU_SERVERS);
    const { db } = getContext();
    upstreams = createUpstreams({
      lookup: async (id) => {
        const server = servers.get(id);
        if (!server) return null;
        // only a model this workspace holds (else the CPU path answers model_not_found)
        const known = await listServableModels(db, workspaceId);
        return known.some((m) => m.id === id) ? server : null;
      },
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
