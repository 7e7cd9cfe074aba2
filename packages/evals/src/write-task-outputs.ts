import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { TaskOutput } from "./evaluate-model.ts";

/** Per-task generations and scores as JSONL, for a report or a look at what went wrong. */
export function writeTaskOutputs(path: string, outputs: readonly TaskOutput[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, outputs.map((o) => JSON.stringify(o)).join("\n") + (outputs.length ? "\n" : ""));
}
