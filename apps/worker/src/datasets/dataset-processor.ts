import { DatasetError } from "@distillery/datasets";
import { type Db, finishJob, type Prisma, startJob } from "@distillery/db";
import { ZDatasetJobPayload } from "@distillery/jobs";
import type { BlobStore } from "@distillery/storage";
import type { Job } from "bullmq";
import { deriveVersion } from "./derive-version.ts";
import { importDataset } from "./import-dataset.ts";
import { failJob, throttle, updateJobProgress } from "./job-state.ts";

/** Where a failure happened, for the UI (the message already names file and line). */
function describeError(e: unknown) {
  if (e instanceof DatasetError)
    return { code: e.code, ...(e.file ? { file: e.file } : {}), ...(e.line ? { line: e.line } : {}) };
  return { code: "internal" };
}

/**
 * The dataset queue's processor: parse, claim the Job row in Postgres (a redelivered job whose
 * row is no longer queued is skipped), delegate to the import or derive function, and record
 * the outcome on the row. Dataset errors are the user's to fix, so they are not retried.
 */
export function createDatasetProcessor(deps: { db: Db; store: BlobStore; workerId: string }) {
  const { db, workerId } = deps;
  return async (job: Job, _token?: string, signal?: AbortSignal) => {
    const payload = ZDatasetJobPayload.parse(job.data);
    if (!(await startJob(db, payload.jobId, workerId))) return { skipped: true };
    const progress = throttle(500, (p: Prisma.InputJsonValue) =>
      updateJobProgress(db, payload.jobId, workerId, p),
    );
    try {
      const output =
        payload.op === "import"
          ? await importDataset(
              {
                ...deps,
                onProgress: (p) => progress(p as unknown as Prisma.InputJsonValue),
                ...(signal ? { signal } : {}),
              },
              payload,
            )
          : await deriveVersion(deps, payload);
      await finishJob(db, payload.jobId, workerId, { output: output as unknown as Prisma.InputJsonValue });
      return { versionIds: "versionId" in output ? [output.versionId] : output.versions.map((v) => v.id) };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      await failJob(db, payload.jobId, workerId, message, { failure: describeError(e) });
      return { failed: message };
    }
  };
}
