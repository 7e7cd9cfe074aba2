import { resolveTemplate } from "@distillery/core";
import { createTokenStats, DatasetError } from "@distillery/datasets";
import type { Db, Prisma } from "@distillery/db";
import type { DatasetJobPayload } from "@distillery/jobs";
import type { BlobStore } from "@distillery/storage";
import { resolveStatsTokenizer } from "./resolve-stats-tokenizer.ts";
import { toStorableJson } from "./storable-json.ts";
import { openVersionRows } from "./version-rows-source.ts";

export type RecountPayload = Extract<DatasetJobPayload, { op: "stats" }>;

/**
 * Token statistics of a ready version, counted again with the tokenizer of the model the user
 * will train (chosen on the version page). The rows are immutable and untouched; the version's
 * statistics are replaced (what the import detected is kept) in one update at the end, so a
 * cancelled or failed recount leaves the old statistics as they were.
 */
export async function recountVersion(
  deps: { db: Db; store: BlobStore; signal?: AbortSignal; onProgress?: (p: { rows: number }) => void },
  p: RecountPayload,
) {
  const { db, store, signal } = deps;
  const version = await db.datasetVersion.findFirst({
    where: { id: p.versionId, workspaceId: p.workspaceId, status: "ready" },
  });
  if (!version?.blobKey)
    throw new DatasetError("unavailable", `dataset version ${p.versionId} does not exist`);
  const template = resolveTemplate(p.template);
  const { counter, tokenizer } = await resolveStatsTokenizer(db, store, {
    workspaceId: p.workspaceId,
    ...(p.tokenizerModelId ? { modelId: p.tokenizerModelId } : {}),
  });
  const stats = createTokenStats({ counter, template, maxLength: p.maxLength });
  const rows = await openVersionRows(store, version.blobKey);
  let n = 0;
  try {
    for await (const row of rows.readRows()) {
      stats.add(row);
      if (++n % 512 === 0) {
        if (signal?.aborted) throw new DatasetError("aborted", "cancelled");
        deps.onProgress?.({ rows: n });
      }
    }
  } finally {
    await rows.close();
  }
  const previous = (version.stats ?? {}) as Record<string, unknown>;
  await db.datasetVersion.update({
    where: { id: version.id },
    data: {
      stats: toStorableJson({
        ...stats.result(),
        tokenizer,
        template: p.template,
        ...(previous.import ? { import: previous.import } : {}),
      }) as unknown as Prisma.InputJsonValue,
    },
  });
  return { datasetId: version.datasetId, versionId: version.id, rows: n, tokenizer, recounted: true };
}
