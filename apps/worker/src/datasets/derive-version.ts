import { createDatasetVersion } from "@distillery/catalog";
import { type CanonicalExample, resolveTemplate } from "@distillery/core";
import {
  createTokenStats,
  DatasetError,
  type DatasetFilterInput,
  filterVersion,
  type RowSink,
  splitVersion,
} from "@distillery/datasets";
import type { Db, Prisma } from "@distillery/db";
import type { DatasetJobPayload } from "@distillery/jobs";
import type { BlobStore } from "@distillery/storage";
import { resolveStatsTokenizer } from "./resolve-stats-tokenizer.ts";
import { openVersionRows } from "./version-rows-source.ts";

export type DerivePayload = Extract<DatasetJobPayload, { op: "filter" | "split" }>;

type Stats = ReturnType<typeof createTokenStats>;

/**
 * A sink that feeds every row it writes to a statistics accumulator first, and stops the work at
 * a batch boundary once `signal` is aborted (a cancel request): the write throws, so the
 * version's writer aborts and removes what it wrote.
 */
function withStats(sink: RowSink, stats: Stats, signal?: AbortSignal): RowSink {
  return {
    write(rows: readonly CanonicalExample[]) {
      if (signal?.aborted) return Promise.reject(new DatasetError("aborted", "cancelled"));
      for (const r of rows) stats.add(r);
      return sink.write(rows);
    },
    commit: () => sink.commit(),
    abort: (reason) => sink.abort(reason),
  };
}

/**
 * A filter or split of a ready version: each output is a new immutable version whose parentId
 * is the input, with fresh statistics. A split makes two versions (train first, then test);
 * should the second insert fail, the first stays: it is complete and valid on its own.
 */
export async function deriveVersion(
  deps: { db: Db; store: BlobStore; signal?: AbortSignal },
  p: DerivePayload,
) {
  const { db, store, signal } = deps;
  const parent = await db.datasetVersion.findFirst({
    where: { id: p.versionId, workspaceId: p.workspaceId, status: "ready" },
  });
  if (!parent?.blobKey) throw new DatasetError("empty", `dataset version ${p.versionId} does not exist`);
  const template = resolveTemplate(p.template);
  const { counter, tokenizer } = await resolveStatsTokenizer(db, store, {
    workspaceId: p.workspaceId,
    ...(p.tokenizerModelId ? { modelId: p.tokenizerModelId } : {}),
  });
  const newStats = () => createTokenStats({ counter, template, maxLength: p.maxLength });
  const statsOf = (s: Stats) =>
    ({ ...s.result(), tokenizer, template: p.template }) as unknown as Prisma.InputJsonValue;
  const schema = {
    ...(parent.schema as Record<string, unknown>),
    template: p.template,
  } as Prisma.InputJsonValue;
  const rows = await openVersionRows(store, parent.blobKey);
  const base = { workspaceId: p.workspaceId, datasetId: parent.datasetId, parentId: parent.id, schema };
  try {
    if (p.op === "filter") {
      const stats = newStats();
      const filters = p.filters as DatasetFilterInput[];
      let dropped: { filter: string; rows: number }[] = [];
      const version = await createDatasetVersion(db, store, {
        ...base,
        operation: { kind: "filter", filters: filters as Prisma.InputJsonValue },
        write: async (sink) => {
          const report = await filterVersion({
            readRows: rows.readRows,
            filters,
            sink: withStats(sink, stats, signal),
            counter,
            template,
          });
          dropped = report.dropped;
          return report;
        },
        stats: () => statsOf(stats),
      });
      return {
        datasetId: parent.datasetId,
        versions: [{ id: version.id, version: version.version, rows: version.rowCount, role: "filtered" }],
        input: parent.rowCount,
        dropped,
        tokenizer,
      };
    }
    const trainStats = newStats();
    const testStats = newStats();
    const operation = (side: "train" | "test") => ({
      kind: "split",
      side,
      testFraction: p.testFraction,
      seed: p.seed,
    });
    let train: Awaited<ReturnType<typeof createDatasetVersion>> | undefined;
    const test = await createDatasetVersion(db, store, {
      ...base,
      operation: operation("test"),
      write: async (testSink) => {
        let report: Awaited<ReturnType<typeof splitVersion>> | undefined;
        train = await createDatasetVersion(db, store, {
          ...base,
          operation: operation("train"),
          write: async (trainSink) => {
            report = await splitVersion({
              readRows: rows.readRows,
              train: withStats(trainSink, trainStats, signal),
              test: withStats(testSink, testStats, signal),
              testFraction: p.testFraction,
              seed: p.seed,
            });
            return { sink: report.train };
          },
          stats: () => statsOf(trainStats),
        });
        return { sink: report?.test };
      },
      stats: () => statsOf(testStats),
    });
    const t = train as unknown as { id: string; version: number; rowCount: number };
    return {
      datasetId: parent.datasetId,
      versions: [
        { id: t.id, version: t.version, rows: t.rowCount, role: "train" },
        { id: test.id, version: test.version, rows: test.rowCount, role: "test" },
      ],
      input: parent.rowCount,
      tokenizer,
    };
  } finally {
    await rows.close();
  }
}
