import type { Db } from "@distillery/db";
import type { GpuRegistry } from "./gpu-registry.ts";
import type { UpstreamServer, UpstreamsOptions } from "./upstream.ts";

/**
 * Where a workspace's model is served on a GPU, for `createUpstreams`:
 * 1. `DISTILLERY_GPU_SERVERS` (a server someone runs themselves) — a static override;
 * 2. the GPU registry: a server a GPU worker started (loading, ready or failed);
 * 3. a GPU model (`isGpuModel`) with a live GPU worker and no server yet: a load is requested
 *    and the model is "loading" until a worker registers it.
 * Anything else is served on the CPU (null). Each request touches the model's last use.
 */
export function createGpuRouting(options: {
  workspaceId: string;
  registry?: GpuRegistry;
  staticServers?: Map<string, UpstreamServer>;
  /** a model this workspace holds that should run on a GPU worker */
  isGpuModel: (id: string) => Promise<boolean>;
  /** only a model the workspace holds goes to a static server (else the CPU path answers 404) */
  isKnown?: (id: string) => Promise<boolean>;
  log?: (message: string) => void;
}): Pick<UpstreamsOptions, "lookup" | "touch"> {
  const { workspaceId, registry } = options;
  const log = options.log ?? (() => {});
  // whether a model is a GPU model changes only when a run ends or a model is registered: a
  // CPU model's request is not held up by two database reads every time
  const kinds = new Map<string, { isGpu: boolean; at: number }>();
  const isGpuModel = async (id: string) => {
    const have = kinds.get(id);
    if (have && Date.now() - have.at < 10_000) return have.isGpu;
    const isGpu = await options.isGpuModel(id);
    if (kinds.size > 10_000) kinds.clear();
    kinds.set(id, { isGpu, at: Date.now() });
    return isGpu;
  };
  return {
    async lookup(id, { load }) {
      const configured = options.staticServers?.get(id);
      if (configured) return !options.isKnown || (await options.isKnown(id)) ? configured : null;
      if (!registry) return null;
      try {
        const entry = await registry.get(workspaceId, id);
        if (entry)
          return {
            url: entry.url,
            apiKey: entry.apiKey,
            state: entry.state,
            ...(entry.reason ? { reason: entry.reason } : {}),
          };
        // no GPU worker alive: the CPU pool answers (or says why it cannot); asked first, so a
        // studio without GPU workers reads no database row here
        if ((await registry.workers()).length === 0) return null;
        if (!(await isGpuModel(id))) return null;
        // the model list: "loading" once a request asked for it, else not loaded
        if (!load)
          return (await registry.isLoadPending(workspaceId, id)) ? { url: "", state: "loading" } : null;
        if (await registry.requestLoad(workspaceId, id))
          log(`[inference] ${id}: asked a GPU worker to load it`);
        return { url: "", state: "loading" };
      } catch (e) {
        // Redis unreachable: no GPU route now (the CPU path answers, or says why it cannot)
        log(`[inference] ${id}: the GPU registry is unreachable: ${(e as Error).message}`);
        return null;
      }
    },
    async touch(id) {
      if (registry && !options.staticServers?.has(id)) await registry.touch(workspaceId, id);
    },
  };
}

/**
 * A model the CPU engine cannot serve but the `hf` engine can: a base model whose catalog
 * engines lack "local", or a run (its merged model, adapter, checkpoint) trained with `hf`.
 */
export async function isGpuServedModel(db: Db, workspaceId: string, id: string): Promise<boolean> {
  const runId = id.split(":")[0] ?? id;
  const run = await db.run.findFirst({ where: { id: runId, workspaceId }, select: { engine: true } });
  if (run) return run.engine === "hf";
  const model = await db.model.findFirst({ where: { name: id, workspaceId }, select: { engines: true } });
  return !!model && model.engines.includes("hf") && !model.engines.includes("local");
}
