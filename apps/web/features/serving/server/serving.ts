import "server-only";
import { join, resolve } from "node:path";
import {
  createModelPool,
  listServableModels,
  type ModelPool,
  resolveServableFiles,
  UnknownModelError,
} from "@distillery/inference";
import { getContext } from "@/lib/server/context.ts";
import { getEnv } from "@/lib/server/env.ts";

/** Resident models share this much memory; the least recently used idle one is evicted first. */
const MEMORY_BUDGET_BYTES = 4 * 1024 ** 3;
/** sequences a model decodes together (its KV slots) */
const SLOTS_PER_MODEL = 8;

const globalForServing = globalThis as unknown as { distilleryServing?: Map<string, ModelPool> };

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
