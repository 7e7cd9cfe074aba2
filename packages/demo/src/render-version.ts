import { BUILTIN_TEMPLATES } from "@distillery/core";
import { readVersionRows, writeEngineJsonl } from "@distillery/datasets";

/**
 * Renders a version's rows into the engine's JSONL of {prompt, completion} with the Phi-3
 * template — what the worker does before it spawns `train` — for in-process pipelines.
 */
export async function renderVersionForEngine(rowsPath: string, outPath: string): Promise<number> {
  const { rows } = await writeEngineJsonl({
    readRows: () => readVersionRows(rowsPath),
    template: BUILTIN_TEMPLATES.phi3,
    path: outPath,
  });
  return rows;
}
