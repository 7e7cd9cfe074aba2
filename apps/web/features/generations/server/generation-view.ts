import "server-only";
import { getGenerationJob, listGenerationRows, sumGenerationRows } from "@distillery/teacher/store";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";

export const isFinishedGeneration = (status: string) =>
  status === "succeeded" || status === "failed" || status === "cancelled";

const clip = (s: string | null, n: number) => (s && s.length > n ? `${s.slice(0, n)}…` : s);

/**
 * A generation job as its page shows it: progress from the stored rows (exact after a resume),
 * live figures from the worker's heartbeat, cost from the teacher's prices, the newest rows.
 * Teacher text is untrusted: the page renders it as text.
 */
export async function getGenerationView(workspaceId: string, jobId: string, options: { rows?: number } = {}) {
  const { db } = getContext();
  const job = await getGenerationJob(db, workspaceId, jobId);
  if (!job) throw new AppError("not_found", "no such generation job");
  const [totals, rows, result] = await Promise.all([
    sumGenerationRows(db, jobId),
    listGenerationRows(db, jobId, { take: options.rows ?? 12 }),
    job.resultVersionId
      ? db.datasetVersion.findFirst({
          where: { id: job.resultVersionId, workspaceId },
          select: { id: true, datasetId: true, version: true, rowCount: true },
        })
      : null,
  ]);
  const progress = (job.progress ?? {}) as {
    tokensPerS?: number;
    rowsPerS?: number;
    inFlight?: number;
    lastError?: string | null;
    updatedAt?: string;
  };
  const isActive = job.status === "running" || job.status === "claimed";
  const priceIn = job.teacher?.priceInPerM ?? 0;
  const priceOut = job.teacher?.priceOutPerM ?? 0;
  const costSoFar = (totals.tokensIn * priceIn + totals.tokensOut * priceOut) / 1e6;
  const config = job.config as {
    samplesPerPrompt?: number;
    rejectionAttempts?: number;
    keepOnlyVerified?: boolean;
  };
  // with rejection sampling a prompt stops at its first verified sample: total is an upper bound
  const remaining = Math.max(0, job.total - totals.done);
  const rowsPerS = isActive ? (progress.rowsPerS ?? 0) : 0;
  return {
    id: job.id,
    name: job.name,
    status: job.status,
    isCancelRequested: job.cancelRequestedAt !== null,
    isPauseRequested: job.pauseRequestedAt !== null,
    teacher: job.teacher ? { id: job.teacher.id, name: job.teacher.name, model: job.teacher.model } : null,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    error: job.error,
    interruptions: job.interruptions,
    resultVersionId: job.resultVersionId,
    result,
    config: job.config,
    total: job.total,
    ...totals,
    acceptedRate: totals.done > 0 ? totals.accepted / totals.done : null,
    inFlight: isActive ? (progress.inFlight ?? 0) : 0,
    tokensPerS: isActive ? (progress.tokensPerS ?? 0) : 0,
    rowsPerS,
    etaSeconds: isActive && rowsPerS > 0 ? Math.round(remaining / rowsPerS) : null,
    costSoFar,
    costEstimated: totals.done > 0 ? (costSoFar / totals.done) * job.total : null,
    lastError: progress.lastError ?? null,
    keepOnlyVerified: config.keepOnlyVerified ?? true,
    rows: rows.map((r) => ({
      id: String(r.id),
      promptIndex: r.promptIndex,
      sample: r.sample,
      status: r.status,
      prompt: clip(r.prompt, 2000),
      reasoning: clip(r.reasoning, 20_000),
      answer: clip(r.answer, 4000),
      finishReason: r.finishReason,
      reasoningSource: r.reasoningSource,
      completionTokens: r.completionTokens,
      tries: r.tries,
      error: r.error,
      isVerified: r.isVerified,
      verification: r.verification as { extracted?: string | null; reasons?: string[] } | null,
    })),
  };
}
export type GenerationView = Awaited<ReturnType<typeof getGenerationView>>;

export async function listGenerationViews(workspaceId: string) {
  const { db } = getContext();
  const jobs = await db.generationJob.findMany({
    where: { workspaceId },
    orderBy: { createdAt: "desc" },
    take: 100,
    select: {
      id: true,
      name: true,
      status: true,
      total: true,
      createdAt: true,
      startedAt: true,
      finishedAt: true,
      error: true,
      claimedById: true,
      resultVersionId: true,
      cancelRequestedAt: true,
      teacher: { select: { name: true, model: true } },
      _count: { select: { rows: true } },
    },
  });
  return jobs.map(({ _count, cancelRequestedAt, ...j }) => ({
    ...j,
    done: _count.rows,
    isCancelRequested: cancelRequestedAt !== null,
  }));
}
export type GenerationListItem = Awaited<ReturnType<typeof listGenerationViews>>[number];
