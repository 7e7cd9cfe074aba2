import { join } from "node:path";
import type { RenderMessage } from "@distillery/core";
import { readVersionRows } from "@distillery/datasets";
import type { Db } from "@distillery/db";
import type { BlobStore } from "@distillery/storage";
import type { EvalSet } from "./schemas.ts";

export { type EvalSet, ZEvalSet } from "./schemas.ts";

export interface EvalProblem {
  messages: RenderMessage[];
  reference: string;
}

async function versionRowsPath(
  db: Db,
  store: BlobStore,
  workspaceId: string,
  versionId: string,
  cacheDir: string,
) {
  const version = await db.datasetVersion.findFirst({ where: { id: versionId, workspaceId } });
  if (!version)
    throw new Error(`evalSet.versionId: dataset version ${versionId} does not exist in this workspace`);
  if (version.status !== "ready" || !version.blobKey)
    throw new Error(`evalSet.versionId: dataset version ${versionId} is ${version.status}, not ready`);
  const local = store.localPath(version.blobKey);
  if (local) return local;
  const path = join(/* turbopackIgnore: true */ cacheDir, "eval-sets", ...version.blobKey.split("/"));
  await store.getToFile(version.blobKey, path);
  return path;
}

/** The problems of an eval set, in a stable order (a resumed evaluation skips by index). */
export async function loadEvalSet(
  db: Db,
  store: BlobStore,
  workspaceId: string,
  set: EvalSet,
  cacheDir: string,
): Promise<EvalProblem[]> {
  let versionId: string;
  let max = Number.POSITIVE_INFINITY;
  if (set.kind === "run-heldout") {
    const run = await db.run.findFirst({ where: { id: set.runId, workspaceId } });
    if (!run) throw new Error(`evalSet.runId: run ${set.runId} does not exist in this workspace`);
    const evaluation = (run.config as { evaluation?: { datasetVersionId?: string; maxExamples?: number } })
      .evaluation;
    if (!evaluation?.datasetVersionId)
      throw new Error(`evalSet.runId: run ${run.name} has no held-out evaluation set`);
    versionId = evaluation.datasetVersionId;
    max = evaluation.maxExamples ?? max;
  } else {
    versionId = set.versionId;
    max = set.maxExamples ?? max;
  }
  const path = await versionRowsPath(db, store, workspaceId, versionId, cacheDir);
  const problems: EvalProblem[] = [];
  for await (const row of readVersionRows(path)) {
    if (problems.length >= max) break;
    const messages: RenderMessage[] = [
      ...(row.system ? [{ role: "system" as const, content: row.system }] : []),
      ...row.messages.map((m) => ({ role: m.role as RenderMessage["role"], content: m.content })),
    ];
    problems.push({ messages, reference: row.reference ?? row.answer });
  }
  if (problems.length === 0) throw new Error(`evalSet: dataset version ${versionId} has no rows`);
  return problems;
}
