import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { BUILTIN_TEMPLATES, toEngineExample } from "@distillery/core";
import { readVersionRows } from "@distillery/datasets";

/**
 * Renders a version's rows into the engine's JSONL of {prompt, completion} with the Phi-3
 * template — what the worker does before it spawns `train` — for in-process pipelines.
 */
export async function renderVersionForEngine(rowsPath: string, outPath: string): Promise<number> {
  const spec = BUILTIN_TEMPLATES.phi3;
  const out = createWriteStream(outPath);
  let n = 0;
  for await (const row of readVersionRows(rowsPath)) {
    if (!out.write(`${JSON.stringify(toEngineExample(row, spec))}\n`)) await once(out, "drain");
    n++;
  }
  out.end();
  await once(out, "finish");
  return n;
}
