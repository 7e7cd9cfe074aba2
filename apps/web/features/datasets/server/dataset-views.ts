import "server-only";
import { listTokenizerModels as listCatalogTokenizerModels } from "@distillery/catalog";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";

export const DATASET_JOB_KINDS = ["dataset-import", "dataset-filter", "dataset-split", "dataset-stats"];

/** GET /api/datasets: name, versions, rows of the newest version, last update. */
export async function listDatasets(workspaceId: string) {
  const datasets = await getContext().db.dataset.findMany({
    where: { workspaceId },
    orderBy: { updatedAt: "desc" },
    include: {
      versions: {
        orderBy: { version: "desc" },
        take: 1,
        select: { id: true, version: true, rowCount: true, createdAt: true },
      },
      _count: { select: { versions: true } },
      createdBy: { select: { name: true } },
    },
  });
  return datasets.map((d) => {
    const latest = d.versions[0];
    const updated = latest && latest.createdAt > d.updatedAt ? latest.createdAt : d.updatedAt;
    return {
      id: d.id,
      name: d.name,
      versions: d._count.versions,
      latestVersionId: latest?.id ?? null,
      latestVersion: latest?.version ?? null,
      rows: latest?.rowCount ?? 0,
      updatedAt: updated.toISOString(),
      createdBy: d.createdBy?.name ?? null,
    };
  });
}
export type DatasetListItem = Awaited<ReturnType<typeof listDatasets>>[number];

const versionView = (v: {
  id: string;
  version: number;
  parentId: string | null;
  status: string;
  operation: unknown;
  schema: unknown;
  stats: unknown;
  rowCount: number;
  bytes: bigint;
  createdAt: Date;
}) => ({
  id: v.id,
  version: v.version,
  parentId: v.parentId,
  status: v.status,
  operation: v.operation as Record<string, unknown>,
  schema: v.schema as Record<string, unknown>,
  rowCount: v.rowCount,
  bytes: Number(v.bytes),
  createdAt: v.createdAt.toISOString(),
  stats: v.stats as Record<string, unknown>,
});
export type DatasetVersionView = ReturnType<typeof versionView>;

/** GET /api/datasets/[datasetId]: the dataset with every version (lineage via parentId). */
export async function getDataset(workspaceId: string, datasetId: string) {
  const d = await getContext().db.dataset.findFirst({
    where: { id: datasetId, workspaceId },
    include: { versions: { orderBy: { version: "desc" } } },
  });
  if (!d) throw new AppError("not_found", `dataset ${datasetId} does not exist`);
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    createdAt: d.createdAt.toISOString(),
    // the version list skips the histograms: the version page loads them
    versions: d.versions.map((v) => {
      const { stats, ...rest } = versionView(v);
      return { ...rest, tokenizer: (stats as { tokenizer?: unknown }).tokenizer ?? null };
    }),
  };
}
export type DatasetDetail = Awaited<ReturnType<typeof getDataset>>;

/** GET /api/datasets/[datasetId]/versions/[versionId] */
export async function getDatasetVersion(workspaceId: string, datasetId: string, versionId: string) {
  const v = await getContext().db.datasetVersion.findFirst({
    where: { id: versionId, datasetId, workspaceId },
    include: { dataset: { select: { name: true } } },
  });
  if (!v) throw new AppError("not_found", `dataset version ${versionId} does not exist`);
  return { ...versionView(v), datasetId, datasetName: v.dataset.name };
}

/** GET /api/datasets/jobs/[jobId]: a dataset job's state, progress and outcome, for polling. */
export async function getDatasetJob(workspaceId: string, jobId: string) {
  const job = await getContext().db.job.findFirst({
    where: { id: jobId, workspaceId, kind: { in: DATASET_JOB_KINDS } },
  });
  if (!job) throw new AppError("not_found", `dataset job ${jobId} does not exist`);
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    input: job.input as Record<string, unknown>,
    output: (job.output ?? null) as Record<string, unknown> | null,
    error: job.error,
    /** a cancel was asked for; the job stays active until its worker stops between batches */
    isCancelRequested: job.cancelRequestedAt !== null,
    createdAt: job.createdAt.toISOString(),
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}
export type DatasetJobView = Awaited<ReturnType<typeof getDatasetJob>>;

/**
 * Models whose tokenizer.json is in blob storage: the choices for token statistics, the default
 * first (catalog's order: the models the user brought, newest first, then those runs wrote).
 */
export async function listTokenizerModels(workspaceId: string, exists: (key: string) => Promise<boolean>) {
  const models = await listCatalogTokenizerModels(getContext().db, exists, workspaceId);
  return models.map((m) => ({ id: m.id, name: m.name }));
}
