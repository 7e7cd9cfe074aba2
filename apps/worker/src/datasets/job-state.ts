import type { Db, Prisma } from "@distillery/db";

/**
 * A dataset job's row while it runs: progress lands in `output` (the UI polls it), the outcome
 * replaces it. Every write is fenced on (worker, active), as finishJob is, so a stale delivery
 * cannot overwrite the result of the one that owns the job.
 */
export function updateJobProgress(db: Db, jobId: string, workerId: string, progress: Prisma.InputJsonValue) {
  return db.job.updateMany({
    where: { id: jobId, workerId, status: "active" },
    data: { output: { progress } },
  });
}

export async function failJob(
  db: Db,
  jobId: string,
  workerId: string,
  error: string,
  output: Prisma.InputJsonValue,
): Promise<boolean> {
  const { count } = await db.job.updateMany({
    where: { id: jobId, workerId, status: "active" },
    data: { status: "failed", error, output, finishedAt: new Date() },
  });
  return count === 1;
}

/** Calls `write` at most every `everyMs`, and never with two writes in flight. */
export function throttle<T>(everyMs: number, write: (value: T) => Promise<unknown>) {
  let last = 0;
  let inFlight = false;
  return (value: T) => {
    const now = Date.now();
    if (inFlight || now - last < everyMs) return;
    last = now;
    inFlight = true;
    write(value)
      .catch(() => {})
      .finally(() => {
        inFlight = false;
      });
  };
}
