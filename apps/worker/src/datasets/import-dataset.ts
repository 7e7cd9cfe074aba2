import { statSync } from "node:fs";
import { consumeUpload, createDatasetVersion, ensureDataset, isUploadHeldBy } from "@distillery/catalog";
import { type DatasetMapping, resolveTemplate } from "@distillery/core";
import {
  createTokenStats,
  DatasetError,
  type DatasetSource,
  type IngestProgress,
  type IngestReport,
  importFromHub,
  ingestDataset,
  sanitizeFileName,
} from "@distillery/datasets";
import type { Db, Prisma } from "@distillery/db";
import type { DatasetJobPayload } from "@distillery/jobs";
import type { BlobStore } from "@distillery/storage";
import { resolveStatsTokenizer } from "./resolve-stats-tokenizer.ts";
import { toStorableJson } from "./storable-json.ts";

export type ImportPayload = Extract<DatasetJobPayload, { op: "import" }>;

/** How many bad rows (file, line, reason) an import keeps for the UI; the count stays exact. */
export const REPORTED_ERRORS = 50;

export interface ImportProgress extends IngestProgress {
  phase: "importing";
  /** size of the uploaded file, when known, for a progress bar */
  totalBytes: number | null;
}

async function uploadSource(store: BlobStore, key: string, fileName: string) {
  const name = sanitizeFileName(fileName);
  const local = store.localPath(key);
  if (local)
    return { source: { path: local, fileName: name } as DatasetSource, totalBytes: statSync(local).size };
  return { source: { stream: await store.get(key), fileName: name } as DatasetSource, totalBytes: null };
}

/** What a version row records about where an import came from (never the Hub token). */
function describeSource(source: ImportPayload["source"]) {
  return source.kind === "upload"
    ? { kind: "upload" as const, fileName: sanitizeFileName(source.fileName) }
    : { kind: "hub" as const, dataset: source.dataset, config: source.config ?? null, split: source.split };
}

/**
 * Streams an upload or a Hub split through the ingest engine, with token statistics, into a new
 * version (createDatasetVersion: rows committed to blob storage before the row exists, nothing
 * left on failure or cancel). The upload is held by this job from the moment the import was
 * requested (the sweeper leaves it alone); it is consumed here whatever happens.
 */
export async function importDataset(
  deps: {
    db: Db;
    store: BlobStore;
    onProgress?: (p: ImportProgress) => void;
    signal?: AbortSignal;
    /** completes the job in the transaction that inserts the version (see createDatasetVersion) */
    finish?: (tx: Prisma.TransactionClient, output: Prisma.InputJsonValue) => Promise<void>;
  },
  p: ImportPayload,
) {
  const { db, store } = deps;
  let createdDatasetId: string | undefined;
  try {
    if (p.source.kind === "upload" && !(await isUploadHeldBy(db, p.source.key, p.jobId)))
      throw new DatasetError(
        "unavailable",
        "the upload is no longer available (it expired before the import started); upload the file again",
      );
    const template = resolveTemplate(p.template);
    const { counter, tokenizer } = await resolveStatsTokenizer(db, store, {
      workspaceId: p.workspaceId,
      ...(p.tokenizerModelId ? { modelId: p.tokenizerModelId } : {}),
    });
    const stats = createTokenStats({ counter, template, maxLength: p.maxLength });
    const existed = await db.dataset.findUnique({
      where: { workspaceId_name: { workspaceId: p.workspaceId, name: p.datasetName } },
      select: { id: true },
    });
    const dataset = await ensureDataset(db, {
      workspaceId: p.workspaceId,
      name: p.datasetName,
      ...(p.createdById ? { createdById: p.createdById } : {}),
    });
    if (!existed) createdDatasetId = dataset.id;
    const mapping = p.mapping as DatasetMapping | undefined;
    const common = {
      ...(mapping ? { mapping } : {}),
      policy: p.policy,
      limits: { maxReportedErrors: REPORTED_ERRORS },
      onRow: (e: Parameters<typeof stats.add>[0]) => stats.add(e),
    };
    let totalBytes: number | null = null;
    const write = async (sink: Parameters<typeof ingestDataset>[0]["sink"]): Promise<IngestReport> => {
      if (p.source.kind === "upload") {
        const opened = await uploadSource(store, p.source.key, p.source.fileName);
        totalBytes = opened.totalBytes;
        return ingestDataset({
          source: opened.source,
          sink,
          ...common,
          onProgress: (x) => deps.onProgress?.({ ...x, phase: "importing", totalBytes }),
          ...(deps.signal ? { signal: deps.signal } : {}),
        });
      }
      const s = p.source;
      return importFromHub({
        dataset: s.dataset,
        ...(s.config ? { config: s.config } : {}),
        split: s.split,
        ...(s.token ? { token: s.token } : {}),
        hubUrl: s.hubUrl,
        ...(s.datasetsServerUrl ? { datasetsServerUrl: s.datasetsServerUrl } : {}),
        sink,
        ...common,
        onProgress: (x) => deps.onProgress?.({ ...x, phase: "importing", totalBytes: null }),
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
    };
    let report: IngestReport | undefined;
    const outputOf = (version: { id: string; version: number }) => {
      const r = report as IngestReport;
      return {
        datasetId: dataset.id,
        versionId: version.id,
        version: version.version,
        rows: r.rows,
        badRows: r.badRows,
        errors: r.errors,
        coercions: r.coercions,
        files: r.files,
        shape: r.shape,
        mapping: r.mapping,
        tokenizer,
      };
    };
    const finish = deps.finish;
    const version = await createDatasetVersion(db, store, {
      workspaceId: p.workspaceId,
      datasetId: dataset.id,
      parentId: null,
      operation: toStorableJson({ kind: "import", source: describeSource(p.source), policy: p.policy }),
      schema: toStorableJson({ template: p.template, ...(mapping ? { mapping } : {}) }),
      write: async (sink) => {
        report = await write(sink);
        return report;
      },
      stats: (r) =>
        toStorableJson({
          ...stats.result(),
          tokenizer,
          template: p.template,
          import: {
            shape: r.shape,
            mapping: r.mapping,
            columns: r.columns,
            files: r.files,
            badRows: r.badRows,
            coercions: r.coercions,
          },
        }) as unknown as Prisma.InputJsonValue,
      ...(finish ? { finalize: (tx, v) => finish(tx, toStorableJson(outputOf(v))) } : {}),
    });
    await db.dataset.update({ where: { id: dataset.id }, data: { updatedAt: new Date() } }).catch(() => {});
    return outputOf(version);
  } catch (e) {
    // a first import that failed leaves no empty dataset behind either
    if (createdDatasetId)
      await db.dataset
        .deleteMany({ where: { id: createdDatasetId, versions: { none: {} } } })
        .catch(() => {});
    throw e;
  } finally {
    if (p.source.kind === "upload") await consumeUpload(db, store, p.source.key, p.jobId).catch(() => {});
  }
}

/** A delivery skipped because its job was cancelled while queued: its upload is consumed now. */
export async function releaseSkippedImport(deps: { db: Db; store: BlobStore }, p: ImportPayload) {
  if (p.source.kind !== "upload") return;
  const job = await deps.db.job.findUnique({ where: { id: p.jobId }, select: { status: true } });
  if (job?.status === "cancelled") await consumeUpload(deps.db, deps.store, p.source.key, p.jobId);
}
