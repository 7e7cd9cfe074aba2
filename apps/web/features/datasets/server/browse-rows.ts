import "server-only";
import { type CanonicalExample, getPromptText } from "@distillery/core";
import { readVersionRows } from "@distillery/datasets";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import { getDatasetsContext } from "./datasets-env.ts";

export interface RowPage {
  offset: number;
  limit: number;
  rows: { index: number; example: CanonicalExample }[];
  /** rows matching the search that were seen; exact when `isComplete` */
  matched: number;
  isComplete: boolean;
}

/** A scan stops after this many rows even when the page is not full, so one search stays bounded. */
const MAX_SCANNED = 2_000_000;

/**
 * A page of a version's rows, optionally only those whose text contains `q` (case-insensitive).
 * A server-side streaming scan: nothing beyond the page is held, and the scan stops once the
 * page is full plus a bounded look-ahead for the count. Fine for now; an index would replace it.
 */
export async function browseRows(
  workspaceId: string,
  ids: { datasetId: string; versionId: string },
  query: { offset: number; limit: number; q?: string },
): Promise<RowPage> {
  const v = await getContext().db.datasetVersion.findFirst({
    where: { id: ids.versionId, datasetId: ids.datasetId, workspaceId, status: "ready" },
    select: { blobKey: true, rowCount: true },
  });
  if (!v?.blobKey) throw new AppError("not_found", `dataset version ${ids.versionId} does not exist`);
  const { store } = getDatasetsContext();
  const needle = query.q?.trim().toLowerCase() || undefined;
  if (!needle && query.offset >= v.rowCount)
    return { ...query, rows: [], matched: v.rowCount, isComplete: true };
  const local = store.localPath(v.blobKey);
  const rowsOf = local ? readVersionRows(local) : readStoreRows(v.blobKey);
  const rows: RowPage["rows"] = [];
  let index = -1;
  let matched = 0;
  let isComplete = true;
  for await (const example of rowsOf) {
    index++;
    if (index >= MAX_SCANNED) {
      isComplete = false;
      break;
    }
    if (needle) {
      const text = `${example.system ?? ""}\n${getPromptText(example)}\n${example.reasoning ?? ""}\n${example.answer}`;
      if (!text.toLowerCase().includes(needle)) continue;
    }
    matched++;
    if (matched > query.offset && rows.length < query.limit) rows.push({ index, example });
    if (!needle && rows.length >= query.limit) {
      matched = v.rowCount;
      isComplete = true;
      break;
    }
  }
  if (!needle) matched = v.rowCount;
  return { offset: query.offset, limit: query.limit, rows, matched, isComplete };
}

async function* readStoreRows(key: string): AsyncGenerator<CanonicalExample> {
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = await mkdtemp(join(tmpdir(), "distillery-browse-"));
  try {
    const path = join(dir, "rows.jsonl.gz");
    await getDatasetsContext().store.getToFile(key, path);
    yield* readVersionRows(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
