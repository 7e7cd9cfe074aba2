import type { RowSink, RowSinkResult } from "@distillery/datasets";
import { type Db, newId, type Prisma } from "@distillery/db";
import type { BlobStore } from "@distillery/storage";
import { createBlobRowSink } from "./blob-row-sink.ts";

export const versionRowsKey = (datasetId: string, versionId: string) =>
  `datasets/${datasetId}/${versionId}/rows.jsonl.gz`;

/** Finds a workspace's dataset by name, creating it when missing. */
export async function ensureDataset(
  db: Db,
  input: { workspaceId: string; name: string; description?: string; createdById?: string },
) {
  return db.dataset.upsert({
    where: { workspaceId_name: { workspaceId: input.workspaceId, name: input.name } },
    update: {},
    create: { id: newId("ds"), ...input, description: input.description ?? "" },
  });
}

/**
 * Creates an immutable dataset version: `write` fills the sink (an import, a filter, a split…);
 * only when its rows are committed to blob storage is the version row inserted, as ready, with
 * the next version number. Any failure removes the rows again, so no partial version is left.
 */
export async function createDatasetVersion<T extends { sink?: RowSinkResult }>(
  db: Db,
  store: BlobStore,
  input: {
    workspaceId: string;
    datasetId: string;
    parentId?: string | null;
    operation: Prisma.InputJsonValue;
    schema?: Prisma.InputJsonValue;
    write: (sink: RowSink) => Promise<T>;
    /** statistics computed while writing (token histograms…) */
    stats?: (result: T) => Prisma.InputJsonValue;
    /**
     * Runs in the transaction that inserts the version row (e.g. completing the job that made
     * it): if it throws, the row is rolled back and the rows removed, so a version exists only
     * when its job succeeded.
     */
    finalize?: (tx: Prisma.TransactionClient, version: { id: string; version: number }) => Promise<void>;
  },
) {
  const versionId = newId("dv");
  const key = versionRowsKey(input.datasetId, versionId);
  const sink = createBlobRowSink(store, key);
  let committed: RowSinkResult | undefined;
  const guarded: RowSink = {
    write: (rows) => sink.write(rows),
    abort: (reason) => sink.abort(reason),
    async commit() {
      committed = await sink.commit();
      return committed;
    },
  };
  try {
    const result = await input.write(guarded);
    if (!committed) committed = await sink.commit();
    const rows = committed;
    // version numbers are per dataset; retry when a concurrent import took the same one
    for (let attempt = 0; ; attempt++) {
      const last = await db.datasetVersion.aggregate({
        where: { datasetId: input.datasetId },
        _max: { version: true },
      });
      try {
        const create = (client: Prisma.TransactionClient | Db) =>
          client.datasetVersion.create({
            data: {
              id: versionId,
              workspaceId: input.workspaceId,
              datasetId: input.datasetId,
              parentId: input.parentId ?? null,
              version: (last._max.version ?? 0) + 1,
              status: "ready",
              operation: input.operation,
              schema: input.schema ?? {},
              stats: input.stats ? input.stats(result) : {},
              rowCount: rows.rows,
              blobKey: key,
              bytes: BigInt(rows.bytes),
              ...(rows.blocks ? { rowBlocks: rows.blocks as unknown as Prisma.InputJsonValue } : {}),
            },
          });
        const finalize = input.finalize;
        if (!finalize) return await create(db);
        return await db.$transaction(async (tx) => {
          const version = await create(tx);
          await finalize(tx, version);
          return version;
        });
      } catch (e) {
        if ((e as { code?: string }).code !== "P2002" || attempt >= 5) throw e;
      }
    }
  } catch (e) {
    await sink.abort(e).catch(() => {});
    await store.delete(key).catch(() => {});
    throw e;
  }
}
