import "server-only";
import { getContext } from "@/lib/server/context.ts";
import { readMeanTokens } from "../lib/launch-summary.ts";

/** Ready dataset versions for the new-run form's picker (the datasets feature owns the tables). */
export async function listReadyDatasetVersions(workspaceId: string) {
  const rows = await getContext().db.datasetVersion.findMany({
    where: { workspaceId, status: "ready" },
    orderBy: [{ createdAt: "desc" }],
    take: 500,
    select: {
      id: true,
      version: true,
      rowCount: true,
      stats: true,
      schema: true,
      createdAt: true,
      dataset: { select: { id: true, name: true } },
    },
  });
  return rows.map((v) => ({
    id: v.id,
    datasetId: v.dataset.id,
    label: `${v.dataset.name} v${v.version}`,
    name: v.dataset.name,
    version: v.version,
    rows: v.rowCount,
    meanTokens: readMeanTokens(v.stats) ?? null,
    template: (v.schema as { template?: string } | null)?.template ?? null,
    createdAt: v.createdAt.toISOString(),
  }));
}
export type DatasetVersionOption = Awaited<ReturnType<typeof listReadyDatasetVersions>>[number];
