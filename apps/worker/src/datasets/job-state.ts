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

/**
 * The completing update, in the transaction that inserts the job's version (createDatasetVersion's
 * `finalize`): a job that cannot complete (fenced out, or an output Postgres refuses) rolls the
 * version back with it.
 */
export async function completeJobIn(
  tx: Prisma.TransactionClient,
  jobId: string,
  workerId: string,
  output: Prisma.InputJsonValue,
): Promise<void> {
  const { count } = await tx.job.updateMany({
    where: { id: jobId, workerId, status: "active" },
    data: { status: "completed", output, finishedAt: new Date() },
  });
  if (count !== 1) throw new Error(`job ${jobId} is no longer held by this worker`);
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

/** The terminal update of a job stopped at the user's request, fenced like the others. */
export async function markJobCancelled(
  db: Db,
  jobId: string,
  workerId: string,
  message: string,
  output: Prisma.InputJsonValue,
): Promise<boolean> {
  const { count } = await db.job.updateMany({
    where: { id: jobId, workerId, status: "active" },
    data: { status: "cancelled", error: message, output, finishedAt: new Date() },
  });
  return count === 1;
}

/**
 * Polls the job's row every `everyMs` for a cancel request and aborts `signal` when there is
 * one. The work checks the signal between batches, so it stops at a batch boundary. `stop()`
 * ends the polling.
 */
export function watchForCancel(db: Db, jobId: string, workerId: string, everyMs: number) {
  const controller = new AbortController();
  let inFlight = false;
  const timer = setInterval(() => {
    if (inFlight || controller.signal.aborted) return;
    inFlight = true;
    db.job
      .findFirst({ where: { id: jobId, workerId, status: "active" }, select: { cancelRequestedAt: true } })
      .then((row) => {
        if (row?.cancelRequestedAt) controller.abort(new Error("cancel requested"));
      })
      .catch(() => {})
      .finally(() => {
        inFlight = false;
      });
  }, everyMs);
  timer.unref();
  return {
    signal: controller.signal,
    stop: () => clearInterval(timer),
  };
}
