// Worker entry for TypeScript workers: Node 20 does not apply `--import tsx` to a worker's
// entry module, so this plain ESM file registers tsx's loader and then imports the real entry.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
