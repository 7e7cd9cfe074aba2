import "server-only";
import type { CanonicalExample } from "@distillery/core";
import { type RowBlock, scanVersionRows } from "@distillery/datasets";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import { getDatasetsContext } from "./datasets-env.ts";

export interface RowPage {
  rows: { index: number; example: CanonicalExample }[];
  /** rows in the version */
  total: number;
  /** the first row this page looked at */
  from: number;
  /**
   * where the next page starts (pass it as `from`); null once the version's end was reached.
   * With a search, rows before it have been searched: "searched `next` of `total` rows".
   */
  next: number | null;
}

/**
 * GET …/versions/[versionId]/rows: a page of a version's rows, optionally only those whose text
 * contains `q` (case-insensitive). Bounded work per request: reading starts at the gzip member
 * holding row `from` (the version's seek points), stops at a full page, and a search also stops
 * after a fixed number of bytes read (scanVersionRows); the client follows `next` for more.
 */
export async function browseRows(
  workspaceId: string,
  ids: { datasetId: string; versionId: string },
  query: { from: number; limit: number; q?: string },
): Promise<RowPage> {
  const v = await getContext().db.datasetVersion.findFirst({
    where: { id: ids.versionId, datasetId: ids.datasetId, workspaceId, status: "ready" },
    select: { blobKey: true, rowCount: true, rowBlocks: true },
  });
  if (!v?.blobKey) throw new AppError("not_found", `dataset version ${ids.versionId} does not exist`);
  const total = v.rowCount;
  if (query.from >= total) return { rows: [], total, from: query.from, next: null };
  const { store } = getDatasetsContext();
  const key = v.blobKey;
  const page = await scanVersionRows({
    open: (start) => store.get(key, { start }),
    ...(Array.isArray(v.rowBlocks) ? { blocks: v.rowBlocks as unknown as RowBlock[] } : {}),
    from: query.from,
    limit: query.limit,
    ...(query.q ? { search: query.q } : {}),
  });
  return {
    rows: page.rows,
    total,
    from: query.from,
    next: page.next !== null && page.next < total ? page.next : null,
  };
}
