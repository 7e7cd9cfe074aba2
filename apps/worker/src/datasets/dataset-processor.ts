import { sweepUploads } from "@distillery/catalog";
import { DatasetError } from "@distillery/datasets";
import { type Db, finishJob, type Prisma, startJob } from "@distillery/db";
import { ZDatasetJobPayload } from "@distillery/jobs";
import type { BlobStore } from "@distillery/storage";
import type { Job } from "bullmq";
import { deriveVersion } from "./derive-version.ts";
import { importDataset, releaseSkippedImport } from "./import-dataset.ts";
import {
  completeJobIn,
  failJob,
  markJobCancelled,
  throttle,
  updateJobProgress,
  watchForCancel,
} from "./job-state.ts";
import { recountVersion } from "./recount-version.ts";
import { toStorableJson, toStorableText } from "./storable-json.ts";

/**
 * What the user reads when a job fails: a dataset error's own message (it names file, line and
 * field, and is written for a person); anything else is the server's business — its message
 * can carry paths, SQL or driver details — so the user gets a plain sentence and the job id,
 * and the log gets the details.
 */
export function userFacingError(e: unknown, jobId: string): string {
  if (e instanceof DatasetError) return toStorableText(e.message);
  return `the job failed on the server (job ${jobId}); the worker's log has the details`;
}

/** Where a failure happened, for the UI (the message already names file and line). */
function describeError(e: unknown) {
  if (e instanceof DatasetError)
    return { code: e.code, ...(e.file ? { file: e.file } : {}), ...(e.line ? { line: e.line } : {}) };
  return { code: "internal" };
}

/** Removes versions (rows and blobs) that a job made but could not complete. */
async function discardVersions(db: Db, store: BlobStore, ids: string[]) {
  for (const id of ids) {
    const v = await db.datasetVersion.findUnique({ where: { id }, select: { blobKey: true } });
    await db.datasetVersion.deleteMany({ where: { id } }).catch(() => {});
    if (v?.blobKey) await store.delete(v.blobKey).catch(() => {});
  }
}

export interface DatasetProcessorDeps {
  db: Db;
  store: BlobStore;
  workerId: string;
  /** uploads not imported within this long are swept (DATASET_UPLOAD_RETENTION_HOURS) */
  uploadRetentionMs?: number;
  /** how often a running job looks for a cancel request on its row */
  cancelPollMs?: number;
  /** where the details of an unexpected failure go (the user sees only userFacingError) */
  logError?: (details: { jobId: string; err: unknown }, message: string) => void;
}

/**
 * The dataset queue's processor: parse, claim the Job row in Postgres (a redelivered job whose
 * row is no longer queued is skipped), delegate to the import or derive function, and record
 * the outcome on the row. Dataset errors are the user's to fix, so they are not retried. A
 * cancel request on the row aborts the work at its next batch; nothing it wrote is kept and the
 * job ends as cancelled. The upload sweep (from a job scheduler) has no Job row.
 */
export function createDatasetProcessor(deps: DatasetProcessorDeps) {
  const { db, store, workerId } = deps;
  return async (job: Job, _token?: string, signal?: AbortSignal) => {
    const payload = ZDatasetJobPayload.parse(job.data);
    if (payload.op === "sweep-uploads") {
      const report = await sweepUploads(db, store, {
        retentionMs: deps.uploadRetentionMs ?? 24 * 3_600_000,
      });
      return {
        expired: report.expired.length,
        released: report.released.length,
        adopted: report.adopted.length,
        failures: report.failures,
      };
    }
    if (!(await startJob(db, payload.jobId, workerId))) {
      // a job cancelled while queued never ran: its upload can go now rather than at the next sweep
      if (payload.op === "import") await releaseSkippedImport(deps, payload).catch(() => {});
      return { skipped: true };
    }
    const cancel = watchForCancel(db, payload.jobId, workerId, deps.cancelPollMs ?? 500);
    const stop = signal ? AbortSignal.any([signal, cancel.signal]) : cancel.signal;
    let lastProgress: { rows?: number } = {};
    const writeProgress = throttle(500, (p: Prisma.InputJsonValue) =>
      updateJobProgress(db, payload.jobId, workerId, p),
    );
    try {
      const output =
        payload.op === "import"
          ? await importDataset(
              {
                ...deps,
                onProgress: (p) => {
                  lastProgress = p;
                  writeProgress(p as unknown as Prisma.InputJsonValue);
                },
                signal: stop,
                // completed in the version's own transaction: no version without a completed job
                finish: (tx, out) => completeJobIn(tx, payload.jobId, workerId, out),
              },
              payload,
            )
          : payload.op === "stats"
            ? await recountVersion(
                {
                  ...deps,
                  signal: stop,
                  onProgress: (p) => {
                    lastProgress = p;
                    writeProgress(p);
                  },
                },
                payload,
              )
            : await deriveVersion({ ...deps, signal: stop }, payload);
      if (payload.op === "filter" || payload.op === "split") {
        // a derive's versions are inserted before the job completes: if it cannot complete
        // (fenced out by another delivery, or the write fails), they go, so no version outlives
        // a job that did not succeed
        const made = "versions" in output ? output.versions.map((v) => v.id) : [];
        const isDone = await finishJob(db, payload.jobId, workerId, { output: toStorableJson(output) }).catch(
          () => false,
        );
        if (!isDone) {
          await discardVersions(db, store, made);
          throw new Error(`job ${payload.jobId} could not be completed; its versions were removed`);
        }
      } else if (payload.op === "stats") {
        await finishJob(db, payload.jobId, workerId, { output: toStorableJson(output) });
      }
      return { versionIds: "versionId" in output ? [output.versionId] : output.versions.map((v) => v.id) };
    } catch (e) {
      if (cancel.signal.aborted) {
        const rows = lastProgress.rows;
        const message = `Cancelled${rows ? ` after ${rows.toLocaleString("en-US")} rows` : ""}; no version was created.`;
        await markJobCancelled(db, payload.jobId, workerId, message, {
          cancelled: true,
          progress: lastProgress as Prisma.InputJsonValue,
        });
        return { cancelled: true };
      }
      if (!(e instanceof DatasetError))
        deps.logError?.({ jobId: payload.jobId, err: e }, "dataset job failed");
      const message = userFacingError(e, payload.jobId);
      await failJob(db, payload.jobId, workerId, message, { failure: describeError(e) });
      return { failed: message };
    } finally {
      cancel.stop();
    }
  };
}
