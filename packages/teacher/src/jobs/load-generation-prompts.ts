import { type CanonicalExample, getLastUserMessage } from "@distillery/core";
import type { Db } from "@distillery/db";
import type { BlobStore } from "@distillery/storage";
import { z } from "zod";
import { type GenerationConfig, ZPromptItem } from "../generation/generation-config.ts";
import type { GenerationPrompt } from "../generation/run-generation.ts";
import { openVersionRows } from "./open-version-rows.ts";

/** A version row's value for one of the columns a generation job offers. */
export function versionColumnValue(row: CanonicalExample, column: string): string | null {
  switch (column) {
    case "prompt":
      return getLastUserMessage(row);
    case "answer":
      return row.answer;
    case "reference":
      return row.reference ?? null;
    case "reasoning":
      return row.reasoning;
    case "system":
      return row.system ?? null;
    default:
      return null;
  }
}

/**
 * The job's prompts in a fixed order (the index is the row key, so the order must be the same
 * on every resume): pasted prompts as stored on the job, or a version's rows as written.
 */
export async function loadGenerationPrompts(
  deps: { db: Db; store: BlobStore },
  job: { workspaceId: string; prompts: unknown },
  config: GenerationConfig,
): Promise<{ prompts: GenerationPrompt[]; parentVersionId: string | null; datasetId: string | null }> {
  const source = config.source;
  if (source.kind === "prompts") {
    const items = z.array(ZPromptItem).parse(job.prompts ?? []);
    return {
      prompts: items.map((p, index) => ({ index, prompt: p.prompt, reference: p.reference ?? null })),
      parentVersionId: null,
      datasetId: null,
    };
  }
  const version = await deps.db.datasetVersion.findFirst({
    where: { id: source.versionId, workspaceId: job.workspaceId, status: "ready" },
  });
  if (!version?.blobKey) throw new Error(`dataset version ${source.versionId} does not exist`);
  const rows = await openVersionRows(deps.store, version.blobKey);
  const prompts: GenerationPrompt[] = [];
  try {
    let index = 0;
    for await (const row of rows.readRows()) {
      const prompt = versionColumnValue(row, source.promptColumn) ?? "";
      const reference = source.referenceColumn ? versionColumnValue(row, source.referenceColumn) : null;
      // an empty prompt keeps its index (the keys stay stable) but is not sent
      if (prompt.trim() !== "") prompts.push({ index, prompt, reference });
      index++;
    }
  } finally {
    await rows.close();
  }
  return { prompts, parentVersionId: version.id, datasetId: version.datasetId };
}
