import "server-only";
import { getContext } from "@/lib/server/context.ts";
import { readMeanTokens } from "../lib/launch-summary.ts";
import type { LengthHistogram, VersionTokenStats } from "../lib/sequence-fit.ts";

/** The token statistics the run form checks the max sequence length against. */
function readTokenStats(stats: unknown, rows: number): VersionTokenStats | null {
  const s = (stats ?? {}) as {
    maxLength?: number;
    truncated?: number;
    histograms?: { total?: LengthHistogram; prompt?: LengthHistogram };
    tokenizer?: { kind: string; modelName?: string };
  };
  if (!s.histograms?.total) return null;
  const pick = (h?: LengthHistogram) =>
    h ? { edges: h.edges, counts: h.counts, max: h.max, p99: h.p99 } : undefined;
  return {
    rows,
    ...(typeof s.maxLength === "number" ? { maxLength: s.maxLength } : {}),
    ...(typeof s.truncated === "number" ? { truncated: s.truncated } : {}),
    total: pick(s.histograms.total),
    prompt: pick(s.histograms.prompt),
    tokenizerName: s.tokenizer?.kind === "model" ? (s.tokenizer.modelName ?? null) : null,
  };
}

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
    tokenStats: readTokenStats(v.stats, v.rowCount),
    createdAt: v.createdAt.toISOString(),
  }));
}
export type DatasetVersionOption = Awaited<ReturnType<typeof listReadyDatasetVersions>>[number];
