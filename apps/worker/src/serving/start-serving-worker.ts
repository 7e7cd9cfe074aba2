import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { GpuRegistry, RedisCaller } from "@distillery/inference";
import {
  createGpuServeManager,
  type GpuServeManager,
  type GpuServeManagerOptions,
} from "./gpu-serve-manager.ts";

/** Weights on disk (safetensors / bin files of a folder). */
function weightBytes(dir: string | undefined): number {
  if (!dir) return 0;
  let n = 0;
  for (const f of readdirSync(dir))
    if (f.endsWith(".safetensors") || f.endsWith(".bin")) n += statSync(join(dir, f)).size;
  return n;
}

/**
 * GPU memory a served model takes, estimated: its weights as stored (bf16/fp16 on disk, as the
 * server loads them) and its adapter, plus a fifth for the KV cache and activations of a batch,
 * plus the CUDA context and allocator slack.
 */
export function estimateGpuBytes(modelDir: string, adapterDir?: string): number {
  const weights = weightBytes(modelDir) + weightBytes(adapterDir);
  return Math.ceil(weights * 1.2) + 512 * 1024 ** 2;
}

export type ServingWorkerOptions = Omit<GpuServeManagerOptions, "log"> & {
  registry: GpuRegistry;
  /** a connection of its own: BRPOP blocks it */
  blocking: RedisCaller & { disconnect(): void };
  /** how often this worker and its servers heartbeat (well under the registry's staleMs) */
  heartbeatMs: number;
  host: string;
  log: GpuServeManagerOptions["log"];
};

/**
 * The GPU serving side of a worker with a GPU: it announces itself (budget, heartbeat) in the
 * GPU registry, takes load requests the studio puts there (any GPU worker may take one), and
 * runs them through its serve manager; each tick heartbeats its servers and stops idle ones.
 */
export function startServingWorker(options: ServingWorkerOptions): {
  manager: GpuServeManager;
  stop(): Promise<void>;
} {
  const { registry, log } = options;
  // an entry outlives a few missed heartbeats, not a dead worker
  const staleAfterMs = options.heartbeatMs * 5;
  const manager = createGpuServeManager({ ...options, staleAfterMs });
  let isStopped = false;
  const announce = () =>
    registry.putWorker({
      workerId: options.workerId,
      host: options.host,
      budgetBytes: options.budgetBytes,
      heartbeatAt: Date.now(),
      staleAfterMs,
    });
  let isTicking = false;
  const tick = async () => {
    if (isTicking || isStopped) return;
    isTicking = true;
    try {
      await announce();
      await manager.tick();
    } catch (e) {
      log("warn", `[serving] heartbeat failed: ${(e as Error).message}`);
    } finally {
      isTicking = false;
    }
  };
  const timer = setInterval(() => void tick(), options.heartbeatMs);
  void tick();

  const loop = (async () => {
    while (!isStopped) {
      try {
        const request = await registry.takeLoadRequest(options.blocking, 1);
        if (!request || isStopped) continue;
        log("info", `[serving] load requested: ${request.modelId}`);
        // not awaited: a model loading for minutes does not hold up the next request
        void manager.load(request).catch((e: Error) => log("error", `[serving] load failed: ${e.message}`));
      } catch (e) {
        if (isStopped) break;
        log("warn", `[serving] reading load requests failed: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  })();

  return {
    manager,
    async stop() {
      isStopped = true;
      clearInterval(timer);
      options.blocking.disconnect();
      await loop;
      await manager.close();
      await registry.removeWorker(options.workerId).catch(() => {});
    },
  };
}
