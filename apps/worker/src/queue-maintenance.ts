import type { Db } from "@distillery/db";
import { requeueStaleRuns } from "@distillery/db";
import {
  type Producer,
  QUEUES,
  QueueUnavailableError,
  runQueueFor,
  ZDatasetJobPayload,
} from "@distillery/jobs";

/** BullMQ states in which a job will still run (or is running) */
const LIVE_STATES = ["waiting", "active", "delayed", "prioritized", "waiting-children"] as const;

type Log = (level: "info" | "warn", message: string) => void;

/**
 * Puts a run back on its queue. An interrupted run (its worker died or shut down) goes to the
 * head of the queue (lifo), so it resumes before runs launched since; a fresh one to the tail.
 */
export function enqueueRun(
  producer: Producer,
  run: { id: string; workspaceId: string; engine: string },
  options: { jobId: string; isInterrupted: boolean },
) {
  return producer.enqueue(
    runQueueFor(run.engine === "hf" ? "hf" : "local"),
    { runId: run.id, workspaceId: run.workspaceId },
    { jobId: options.jobId, ...(options.isInterrupted ? { lifo: true } : {}) },
  );
}

/**
 * Re-queues runs whose worker stopped heartbeating (any worker may reap: the conditional update
 * hands each stale run to exactly one caller). When Redis is down the runs are queued in
 * PostgreSQL all the same, and the sweep below enqueues them once it is back.
 */
export async function reapStaleRuns(deps: { db: Db; producer: Producer; staleAfterMs: number; log: Log }) {
  const runs = await requeueStaleRuns(deps.db, deps.staleAfterMs);
  for (const r of runs) {
    deps.log("warn", `run ${r.id}: its worker stopped heartbeating; re-queued at the head of the queue`);
    await enqueueRun(deps.producer, r, { jobId: `${r.id}-r${Date.now()}`, isInterrupted: true }).catch(
      (e: Error) => {
        if (!(e instanceof QueueUnavailableError)) throw e;
      },
    );
  }
  return runs.map((r) => r.id);
}

/**
 * The outbox sweep: PostgreSQL is the truth of what is queued, Redis only carries it. Every
 * queued run and dataset job that has no live BullMQ job (launched while Redis was down, or
 * its enqueue was lost with a crash) is enqueued. Job ids are derived from the row (a run's
 * id and the time it was last queued; a dataset job's id), so several workers sweeping at once
 * add one job, and the claim in PostgreSQL runs each at most once anyway.
 */
export async function sweepQueuedWork(deps: { db: Db; producer: Producer; graceMs: number; log: Log }) {
  const { db, producer } = deps;
  if (!producer.isAvailable()) return { runs: [], jobs: [] };
  const cutoff = new Date(Date.now() - deps.graceMs);

  const queuedRuns = await db.run.findMany({
    where: { status: "queued", cancelRequestedAt: null, updatedAt: { lt: cutoff } },
    select: {
      id: true,
      workspaceId: true,
      engine: true,
      interruptions: true,
      updatedAt: true,
      dependsOnRunId: true,
      dependsOn: { select: { status: true } },
    },
    orderBy: { createdAt: "asc" },
    take: 1_000,
  });
  // a run waiting for its upstream is enqueued when that one succeeds
  const candidates = queuedRuns.filter((r) => !r.dependsOnRunId || r.dependsOn?.status === "succeeded");
  const enqueuedRuns: string[] = [];
  if (candidates.length > 0) {
    const live = new Set<string>();
    for (const q of [QUEUES.runsLocal, QUEUES.runsHf] as const) {
      for (const job of await producer.queue(q).getJobs([...LIVE_STATES], 0, -1)) {
        const runId = (job?.data as { runId?: string } | undefined)?.runId;
        if (runId) live.add(runId);
      }
    }
    for (const r of candidates) {
      if (live.has(r.id)) continue;
      await enqueueRun(producer, r, {
        jobId: `${r.id}-q${r.updatedAt.getTime()}`,
        isInterrupted: r.interruptions > 0,
      });
      enqueuedRuns.push(r.id);
    }
  }

  const queuedJobs = await db.job.findMany({
    where: { status: "queued", kind: { startsWith: "dataset-" }, createdAt: { lt: cutoff } },
    select: { id: true, input: true, createdAt: true },
    orderBy: { createdAt: "asc" },
    take: 1_000,
  });
  const enqueuedJobs: string[] = [];
  if (queuedJobs.length > 0) {
    const live = new Set<string>();
    for (const job of await producer.queue(QUEUES.datasets).getJobs([...LIVE_STATES], 0, -1)) {
      const jobId = (job?.data as { jobId?: string } | undefined)?.jobId;
      if (jobId) live.add(jobId);
    }
    for (const j of queuedJobs) {
      if (live.has(j.id)) continue;
      const parsed = ZDatasetJobPayload.safeParse(
        (j.input as { queuePayload?: unknown } | null)?.queuePayload,
      );
      if (!parsed.success) {
        // give a web that is still enqueueing it (or waiting out a timeout) a minute first
        if (j.createdAt.getTime() > Date.now() - Math.max(deps.graceMs, 60_000)) continue;
        // queued before the outbox kept payloads, and its job is gone: it can never run
        await db.job.updateMany({
          where: { id: j.id, status: "queued" },
          data: {
            status: "failed",
            error: "the job was lost from the queue; start it again",
            finishedAt: new Date(),
          },
        });
        deps.log("warn", `dataset job ${j.id} has no queued payload and no queue job: marked failed`);
        continue;
      }
      await producer.enqueue(QUEUES.datasets, parsed.data, { jobId: j.id });
      enqueuedJobs.push(j.id);
    }
  }
  if (enqueuedRuns.length + enqueuedJobs.length > 0) {
    deps.log(
      "info",
      `queue sweep: enqueued ${enqueuedRuns.length} run(s) and ${enqueuedJobs.length} dataset job(s) that were queued in PostgreSQL only`,
    );
  }
  return { runs: enqueuedRuns, jobs: enqueuedJobs };
}
