import { Worker } from "node:worker_threads";
import type { CanonicalExample, ChatTemplateSpec } from "@distillery/core";
import type { TokenStats } from "./token-stats.ts";

export interface ParallelTokenStatsOptions {
  tokenizerJson: unknown;
  tokenizerConfig?: unknown;
  template?: ChatTemplateSpec;
  maxLength?: number;
  bins?: number;
  binWidth?: number;
  /** rows per message to the worker */
  batchSize?: number;
}

const MAX_IN_FLIGHT = 8;

/**
 * Token statistics on a worker thread, so counting runs beside parsing instead of after it
 * (the ingest of 1 GB spends about as long counting as parsing). `add` returns a promise only
 * when the worker is behind by MAX_IN_FLIGHT batches; ingestDataset awaits it, which bounds
 * memory. Same results as createTokenStats.
 */
export function createParallelTokenStats(options: ParallelTokenStatsOptions) {
  const { batchSize = 256, ...init } = options;
  const worker = startTsWorker(new URL("./token-stats-worker.ts", import.meta.url), init);
  let failure: Error | undefined;
  let inFlight = 0;
  let waiting: (() => void) | undefined;
  let resolveResult: ((r: TokenStats) => void) | undefined;
  let rejectResult: ((e: Error) => void) | undefined;
  worker.on("message", (msg: { type: "ack" } | { type: "result"; result: TokenStats }) => {
    if (msg.type === "ack") {
      inFlight--;
      waiting?.();
      waiting = undefined;
    } else resolveResult?.(msg.result);
  });
  worker.on("error", (err) => {
    failure = err;
    waiting?.();
    rejectResult?.(err);
  });
  let batch: CanonicalExample[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    worker.postMessage({ type: "rows", rows: batch });
    inFlight++;
    batch = [];
  };

  return {
    add(example: CanonicalExample): Promise<void> | undefined {
      if (failure) throw failure;
      batch.push(example);
      if (batch.length < batchSize) return undefined;
      flush();
      if (inFlight < MAX_IN_FLIGHT) return undefined;
      return new Promise<void>((resolve) => {
        waiting = resolve;
      });
    },
    async result(): Promise<TokenStats> {
      flush();
      if (failure) throw failure;
      const result = new Promise<TokenStats>((resolve, reject) => {
        resolveResult = resolve;
        rejectResult = reject;
      });
      worker.postMessage({ type: "result" });
      return result;
    },
    async close(): Promise<void> {
      await worker.terminate();
    },
  };
}

/** Starts a worker from a TypeScript file through ts-worker-boot.mjs (which registers tsx). */
function startTsWorker(entry: URL, init: unknown): Worker {
  return new Worker(new URL("./ts-worker-boot.mjs", import.meta.url), {
    workerData: { entry: entry.href, init },
    // counting allocates little that lives; a small young generation keeps the worker's RSS low
    resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 },
  });
}
