import { type Db, newId, type Prisma } from "@distillery/db";
import type { BlobStore } from "@distillery/storage";

/**
 * Uploads waiting to be imported: a blob under `uploads/<workspace>/<id>` and its DatasetUpload
 * row. The row is written before the first byte is stored, so every upload blob has one; each
 * move between states is a conditional update, so the import's claim and the sweeper never
 * both win:
 *
 *   receiving ─▶ received ─▶ importing (held by the import's Job row) ─▶ consumed
 *        └──────────┴─▶ expired (older than the retention period: the sweeper deletes the blob)
 */
export type UploadStatus = "receiving" | "received" | "importing" | "consumed" | "expired";

export const uploadKey = (workspaceId: string, uploadId: string) => `uploads/${workspaceId}/${uploadId}`;

const UPLOAD_KEY = /^uploads\/([\w-]+)\/([\w-]+)$/;

/** Before the body is read: from here on the sweeper knows about this key. */
export function recordUpload(
  db: Db,
  input: { id: string; workspaceId: string; fileName: string; createdById?: string },
) {
  return db.datasetUpload.create({
    data: { ...input, blobKey: uploadKey(input.workspaceId, input.id), status: "receiving" },
  });
}

/** Stored and previewed: receiving → received. False when it expired meanwhile (a very slow upload). */
export async function markUploadReceived(db: Db, id: string, bytes: number): Promise<boolean> {
  const { count } = await db.datasetUpload.updateMany({
    where: { id, status: "receiving" },
    data: { status: "received", bytes: BigInt(bytes) },
  });
  return count === 1;
}

/** A refused upload (too large, unreadable, empty): the blob goes, then its row. */
export async function discardUpload(db: Db, store: BlobStore, id: string): Promise<void> {
  const row = await db.datasetUpload.findUnique({ where: { id }, select: { blobKey: true } });
  if (!row) return;
  await store.delete(row.blobKey);
  await db.datasetUpload.deleteMany({ where: { id } });
}

/**
 * The import's hold: received → importing, in the transaction that creates its Job row, so the
 * upload is never without a holder between the two. False when the upload is unknown, already
 * imported, or expired.
 */
export async function claimUpload(
  tx: Prisma.TransactionClient,
  input: { workspaceId: string; uploadId: string; jobId: string },
): Promise<boolean> {
  const { count } = await tx.datasetUpload.updateMany({
    where: { id: input.uploadId, workspaceId: input.workspaceId, status: "received" },
    data: { status: "importing", jobId: input.jobId },
  });
  return count === 1;
}

/** The job could not be enqueued: the upload can be imported again. */
export async function releaseUploadClaim(db: Db, uploadId: string, jobId: string): Promise<void> {
  await db.datasetUpload.updateMany({
    where: { id: uploadId, jobId, status: "importing" },
    data: { status: "received", jobId: null },
  });
}

/**
 * Whether the import job `jobId` holds the upload at `blobKey`. An upload without a row was
 * made before uploads were recorded; its import goes ahead as it always did.
 */
export async function isUploadHeldBy(db: Db, blobKey: string, jobId: string): Promise<boolean> {
  const row = await db.datasetUpload.findUnique({
    where: { blobKey },
    select: { status: true, jobId: true },
  });
  return !row || (row.status === "importing" && row.jobId === jobId);
}

/**
 * The import ran, whatever its outcome: the row is marked consumed and the blob deleted. Only
 * the holder deletes (or anyone, for an upload without a row); an upload that expired is the
 * sweeper's. Returns whether the blob was deleted here.
 */
export async function consumeUpload(db: Db, store: BlobStore, blobKey: string, jobId: string) {
  const { count } = await db.datasetUpload.updateMany({
    where: { blobKey, jobId, status: "importing" },
    data: { status: "consumed" },
  });
  if (count === 0 && (await db.datasetUpload.count({ where: { blobKey } })) > 0) return false;
  await store.delete(blobKey);
  return true;
}

export interface UploadSweepReport {
  /** uploads never imported within the retention period */
  expired: string[];
  /** uploads whose import job ended without removing them (a crashed worker, a queued cancel) */
  released: string[];
  /** blobs under uploads/ that had no row (made before uploads were recorded): now recorded */
  adopted: string[];
  /** blob deletions that failed (retried by the next sweep: the row stays terminal) */
  failures: { key: string; error: string }[];
}

/**
 * Deletes uploads nobody will import: `receiving`/`received` ones older than `retentionMs`, and
 * `importing` ones whose job has ended. Each row is claimed by one conditional UPDATE before its
 * blob is deleted. An upload held by a queued or active import is never touched: the claim
 * commits the Job row and the hold together, and a sweep whose snapshot predates that commit
 * re-checks the locked row (status `importing`) and finds no *ended* job, so it skips it.
 * Safe to run on several workers at once.
 */
export async function sweepUploads(
  db: Db,
  store: BlobStore,
  options: { retentionMs: number; now?: Date },
): Promise<UploadSweepReport> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.retentionMs);
  const swept = await db.$queryRaw<{ id: string; blobKey: string; status: UploadStatus }[]>`
    UPDATE "DatasetUpload" u
    SET status = CASE WHEN u.status = 'importing' THEN 'consumed' ELSE 'expired' END, "updatedAt" = now()
    WHERE (u.status IN ('receiving', 'received') AND u."createdAt" < ${cutoff})
       OR (u.status = 'importing' AND (u."jobId" IS NULL OR EXISTS (
             SELECT 1 FROM "Job" j
             WHERE j.id = u."jobId" AND j.status IN ('completed', 'failed', 'cancelled'))))
    RETURNING u.id, u."blobKey", u.status`;
  const report: UploadSweepReport = { expired: [], released: [], adopted: [], failures: [] };
  const remove = async (key: string) => {
    try {
      await store.delete(key);
    } catch (e) {
      report.failures.push({ key, error: (e as Error).message });
    }
  };
  for (const u of swept) {
    await remove(u.blobKey);
    (u.status === "expired" ? report.expired : report.released).push(u.id);
  }
  await sweepUnrecordedBlobs(db, store, report, remove);
  return report;
}

/**
 * Blobs under uploads/ whose row is terminal (a deletion that failed, or a blob renamed into
 * place after its upload expired) are deleted again; blobs without a row get one, as received
 * now, so they expire one retention period after they were first seen.
 */
async function sweepUnrecordedBlobs(
  db: Db,
  store: BlobStore,
  report: UploadSweepReport,
  remove: (key: string) => Promise<void>,
) {
  const keys = await store.list("uploads/");
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const rows = await db.datasetUpload.findMany({
      where: { blobKey: { in: chunk } },
      select: { blobKey: true, status: true },
    });
    const statusOf = new Map(rows.map((r) => [r.blobKey, r.status]));
    const missing: { key: string; workspaceId: string; id: string }[] = [];
    for (const key of chunk) {
      const status = statusOf.get(key);
      if (status === "expired" || status === "consumed") await remove(key);
      const m = UPLOAD_KEY.exec(key);
      if (status === undefined && m?.[1] && m[2]) missing.push({ key, workspaceId: m[1], id: m[2] });
    }
    if (missing.length === 0) continue;
    const workspaces = new Set(
      (
        await db.workspace.findMany({
          where: { id: { in: [...new Set(missing.map((m) => m.workspaceId))] } },
          select: { id: true },
        })
      ).map((w) => w.id),
    );
    const adopt = missing.filter((m) => workspaces.has(m.workspaceId));
    // a workspace that is gone can import nothing
    for (const m of missing) if (!workspaces.has(m.workspaceId)) await remove(m.key);
    await db.datasetUpload.createMany({
      data: adopt.map((m) => ({
        id: m.id.startsWith("up_") ? m.id : newId("up"),
        workspaceId: m.workspaceId,
        blobKey: m.key,
        fileName: m.id,
        status: "received",
      })),
      skipDuplicates: true,
    });
    report.adopted.push(...adopt.map((m) => m.key));
  }
}
