import { type Db, finishJob, startJob } from "@distillery/db";
import { ZEchoPayload } from "@distillery/jobs";
import type { Job } from "bullmq";

/**
 * The echo job: the smallest trip through every part (web → queue → worker → DB → web).
 * Postgres decides whether this delivery runs: a redelivered job whose row is no longer queued
 * is skipped.
 */
export function createEchoProcessor(db: Db, workerId: string) {
  return async (job: Job, _token?: string, signal?: AbortSignal) => {
    const payload = ZEchoPayload.parse(job.data);
    if (!(await startJob(db, payload.jobId, workerId))) return { skipped: true };
    if (payload.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, payload.delayMs);
        signal?.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const output = {
      echo: payload.message,
      reversed: [...payload.message].reverse().join(""),
      workerId,
      at: new Date().toISOString(),
    };
    await finishJob(db, payload.jobId, workerId, { output });
    return output;
  };
}
