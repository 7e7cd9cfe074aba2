/**
 * Worker-thread side of createParallelTokenStats: counts tokens for batches of rows off the
 * ingest thread. Loaded with tsx (the package is consumed from TypeScript source).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { CanonicalExample, ChatTemplateSpec } from "@distillery/core";
import { createTokenCounter } from "./token-counter.ts";
import { createTokenStats } from "./token-stats.ts";

interface Init {
  tokenizerJson: unknown;
  tokenizerConfig?: unknown;
  template?: ChatTemplateSpec;
  maxLength?: number;
  bins?: number;
  binWidth?: number;
}

const init = (workerData as { init: Init }).init;
const stats = createTokenStats({
  counter: createTokenCounter(init.tokenizerJson, init.tokenizerConfig),
  ...(init.template ? { template: init.template } : {}),
  ...(init.maxLength ? { maxLength: init.maxLength } : {}),
  ...(init.bins ? { bins: init.bins } : {}),
  ...(init.binWidth ? { binWidth: init.binWidth } : {}),
});

parentPort?.on("message", (msg: { type: "rows"; rows: CanonicalExample[] } | { type: "result" }) => {
  if (msg.type === "rows") {
    for (const row of msg.rows) stats.add(row);
    parentPort?.postMessage({ type: "ack" });
  } else {
    parentPort?.postMessage({ type: "result", result: stats.result() });
  }
});
