import { type Db, newId, type Prisma } from "@distillery/db";
import type { GeneratedRow, StoredAttempt } from "../generation/run-generation.ts";
import { completionKey } from "../verify-completion.ts";

/**
 * A generation job's lifecycle, owned by Postgres as runs' is:
 *   queued → claimed → running → succeeded | failed | cancelled
 *   running → paused (the user asked; its worker stopped) → queued (resume) → …
 * A claim bumps `attempt`; (claimedById, attempt) is the lease every later write presents, so a
 * worker whose claim went stale (its heartbeat lapsed, the job was re-queued) changes nothing.
 */
export interface GenerationLease {
  jobId: string;
  workerId: string;
  attempt: number;
}

export const ACTIVE_GENERATION_STATUSES = ["claimed", "running"] as const;
export const GENERATION_STATUSES = [
  "queued",
  "claimed",
  "running",
  "paused",
  "succeeded",
  "failed",
  "cancelled",
] as const;

export async function createGenerationJob(
  db: Db,
  input: {
    workspaceId: string;
    name: string;
    teacherId: string;
    config: Prisma.InputJsonValue;
    prompts?: Prisma.InputJsonValue | null;
    total: number;
    createdById?: string | null;
  },
) {
  const { prompts, ...rest } = input;
  return db.generationJob.create({
    data: { id: newId("gen"), status: "queued", ...rest, ...(prompts ? { prompts } : {}) },
  });
}

/** Exactly one caller wins; a job with a cancel or pause pending is not claimed. */
export async function claimGenerationJob(
  db: Db,
  jobId: string,
  workerId: string,
): Promise<GenerationLease | null> {
  const rows = await db.$queryRaw<{ attempt: number }[]>`
    UPDATE "GenerationJob" SET status = 'claimed', "claimedById" = ${workerId}, attempt = attempt + 1,
      "heartbeatAt" = now(), "updatedAt" = now()
    WHERE id = ${jobId} AND status = 'queued' AND "cancelRequestedAt" IS NULL AND "pauseRequestedAt" IS NULL
    RETURNING attempt`;
  const row = rows[0];
  return row ? { jobId, workerId, attempt: row.attempt } : null;
}

export async function markGenerationRunning(db: Db, lease: GenerationLease): Promise<boolean> {
  const n = await db.$executeRaw`
    UPDATE "GenerationJob" SET status = 'running', "startedAt" = COALESCE("startedAt", now()),
      "heartbeatAt" = now(), "updatedAt" = now()
    WHERE id = ${lease.jobId} AND "claimedById" = ${lease.workerId} AND attempt = ${lease.attempt}
      AND status IN ('claimed', 'running')`;
  return n === 1;
}

/** Renews the lease and writes the live figures; says whether to stop and why. */
export async function heartbeatGenerationJob(
  db: Db,
  lease: GenerationLease,
  progress?: Prisma.InputJsonValue,
): Promise<{ isLeaseHeld: boolean; isCancelRequested: boolean; isPauseRequested: boolean }> {
  const json = progress === undefined ? null : JSON.stringify(progress);
  const rows = await db.$queryRaw<{ cancelRequestedAt: Date | null; pauseRequestedAt: Date | null }[]>`
    UPDATE "GenerationJob" SET "heartbeatAt" = now(),
      progress = COALESCE(${json}::jsonb, progress)
    WHERE id = ${lease.jobId} AND "claimedById" = ${lease.workerId} AND attempt = ${lease.attempt}
      AND status IN ('claimed', 'running')
    RETURNING "cancelRequestedAt", "pauseRequestedAt"`;
  const row = rows[0];
  return {
    isLeaseHeld: row !== undefined,
    isCancelRequested: row?.cancelRequestedAt != null,
    isPauseRequested: row?.pauseRequestedAt != null,
  };
}

/** The terminal update (or the pause), fenced by the lease. */
export async function finishGenerationJob(
  db: Db,
  lease: GenerationLease,
  outcome: {
    status: "succeeded" | "failed" | "cancelled" | "paused";
    error?: string | null;
    resultVersionId?: string | null;
    progress?: Prisma.InputJsonValue;
  },
): Promise<boolean> {
  const isPause = outcome.status === "paused";
  const progress = outcome.progress === undefined ? null : JSON.stringify(outcome.progress);
  const n = await db.$executeRaw`
    UPDATE "GenerationJob" SET status = ${outcome.status},
      "finishedAt" = CASE WHEN ${isPause} THEN NULL ELSE now() END,
      "claimedById" = CASE WHEN ${isPause} THEN NULL ELSE "claimedById" END,
      "updatedAt" = now(), error = ${outcome.error ?? null},
      "resultVersionId" = COALESCE(${outcome.resultVersionId ?? null}, "resultVersionId"),
      progress = COALESCE(${progress}::jsonb, progress)
    WHERE id = ${lease.jobId} AND "claimedById" = ${lease.workerId} AND attempt = ${lease.attempt}
      AND status IN ('claimed', 'running')`;
  return n === 1;
}

/** Hands the job back to the queue (a worker shutting down); it resumes where it stopped. */
export async function releaseGenerationJob(db: Db, lease: GenerationLease): Promise<boolean> {
  const n = await db.$executeRaw`
    UPDATE "GenerationJob" SET status = 'queued', "claimedById" = NULL, interruptions = interruptions + 1,
      "updatedAt" = now()
    WHERE id = ${lease.jobId} AND "claimedById" = ${lease.workerId} AND attempt = ${lease.attempt}
      AND status IN ('claimed', 'running')`;
  return n === 1;
}

type Action = "cancel" | "pause" | "resume";

/**
 * The page's buttons. cancel: a queued or paused job ends at once, a running one is asked (its
 * worker stops at the next heartbeat). pause: a queued job pauses at once, a running one is
 * asked. resume: a paused job is queued again (the caller enqueues it). Returns the status after
 * the request, or null when no such job.
 */
export async function requestGenerationAction(
  db: Db,
  workspaceId: string,
  jobId: string,
  action: Action,
): Promise<{ status: string; shouldEnqueue: boolean } | null> {
  const where = { id: jobId, workspaceId };
  const now = new Date();
  let shouldEnqueue = false;
  if (action === "cancel") {
    await db.generationJob.updateMany({
      where: { ...where, status: { in: ["queued", "paused"] } },
      data: { status: "cancelled", cancelRequestedAt: now, finishedAt: now, error: "cancelled" },
    });
    await db.generationJob.updateMany({
      where: { ...where, status: { in: ["claimed", "running"] }, cancelRequestedAt: null },
      data: { cancelRequestedAt: now },
    });
  } else if (action === "pause") {
    await db.generationJob.updateMany({
      where: { ...where, status: "queued" },
      data: { status: "paused", pauseRequestedAt: now },
    });
    await db.generationJob.updateMany({
      where: { ...where, status: { in: ["claimed", "running"] }, pauseRequestedAt: null },
      data: { pauseRequestedAt: now },
    });
  } else {
    const { count } = await db.generationJob.updateMany({
      where: { ...where, status: "paused", cancelRequestedAt: null },
      data: { status: "queued", pauseRequestedAt: null, claimedById: null },
    });
    shouldEnqueue = count === 1;
  }
  const job = await db.generationJob.findFirst({ where, select: { status: true } });
  return job ? { status: job.status, shouldEnqueue } : null;
}

export type RetryFailedOutcome =
  | { kind: "queued"; retried: number }
  | { kind: "refused"; status: string; reason: string }
  | { kind: "missing" };

/**
 * "Retry failed rows": a finished (or paused) job's rows that failed (the teacher never answered
 * them within the tries) are removed, so the job — queued again, the caller enqueues it — asks
 * for those and nothing it already has. A failed job with no failed row (a wrong key, fixed
 * since) is queued again the same way: it asks only for what it never stored. On success the
 * job points to a new result version. Refused while the job runs, and for a job with nothing
 * to retry.
 */
export async function retryFailedGenerationRows(
  db: Db,
  workspaceId: string,
  jobId: string,
): Promise<RetryFailedOutcome> {
  return db.$transaction(async (tx) => {
    const jobs = await tx.$queryRaw<{ status: string }[]>`
      SELECT status FROM "GenerationJob" WHERE id = ${jobId} AND "workspaceId" = ${workspaceId} FOR UPDATE`;
    const job = jobs[0];
    if (!job) return { kind: "missing" as const };
    if (!["succeeded", "failed", "cancelled", "paused"].includes(job.status))
      return { kind: "refused" as const, status: job.status, reason: `the job is ${job.status}` };
    const { count } = await tx.generationRow.deleteMany({ where: { jobId, status: "failed" } });
    if (count === 0 && job.status !== "failed")
      return { kind: "refused" as const, status: job.status, reason: "no failed row to retry" };
    await tx.generationJob.update({
      where: { id: jobId },
      data: {
        status: "queued",
        error: null,
        finishedAt: null,
        claimedById: null,
        cancelRequestedAt: null,
        pauseRequestedAt: null,
      },
    });
    return { kind: "queued" as const, retried: count };
  });
}

/**
 * Jobs whose worker stopped heartbeating (killed, machine lost): re-queued, or cancelled when a
 * cancel was pending, or paused when a pause was. Returns the re-queued ones to enqueue again.
 */
export async function requeueStaleGenerationJobs(
  db: Db,
  staleAfterMs: number,
): Promise<{ id: string; workspaceId: string }[]> {
  const cutoff = new Date(Date.now() - staleAfterMs);
  await db.$executeRaw`
    UPDATE "GenerationJob" SET status = 'cancelled', "finishedAt" = now(), "updatedAt" = now(),
      "claimedById" = NULL, error = 'worker lost while cancelling'
    WHERE status IN ('claimed', 'running') AND "heartbeatAt" < ${cutoff} AND "cancelRequestedAt" IS NOT NULL`;
  await db.$executeRaw`
    UPDATE "GenerationJob" SET status = 'paused', "updatedAt" = now(), "claimedById" = NULL,
      interruptions = interruptions + 1
    WHERE status IN ('claimed', 'running') AND "heartbeatAt" < ${cutoff} AND "pauseRequestedAt" IS NOT NULL`;
  return db.$queryRaw<{ id: string; workspaceId: string }[]>`
    UPDATE "GenerationJob" SET status = 'queued', "claimedById" = NULL, interruptions = interruptions + 1,
      "updatedAt" = now()
    WHERE status IN ('claimed', 'running') AND "heartbeatAt" < ${cutoff}
    RETURNING id, "workspaceId"`;
}

/**
 * Stores one row as it arrives. Idempotent on (job, prompt, sample): a replay (or a stale worker
 * racing the one that owns the job) never duplicates a row; the first stored wins.
 */
export async function insertGenerationRow(
  db: Db,
  jobId: string,
  row: GeneratedRow,
  prompt: string | null = null,
): Promise<void> {
  const c = row.completion;
  const v = row.verification;
  const verification = v ? JSON.stringify(v) : null;
  await db.$executeRaw`
    INSERT INTO "GenerationRow" ("jobId", "promptIndex", sample, status, prompt, reasoning, answer, "finishReason",
      "reasoningSource", "promptTokens", "completionTokens", "reasoningTokens", "latencyMs", tries, error,
      "isVerified", verification)
    VALUES (${jobId}, ${row.promptIndex}, ${row.sample}, ${row.status}, ${prompt}, ${c?.reasoning ?? null},
      ${c ? c.answer : null}, ${c?.finishReason ?? null}, ${c?.reasoningSource ?? null},
      ${c?.usage.promptTokens ?? 0}, ${c?.usage.completionTokens ?? 0}, ${c?.usage.reasoningTokens ?? 0},
      ${Math.round(c?.latencyMs ?? 0)}, ${row.tries}, ${row.error ?? null}, ${v?.isVerified ?? false},
      ${verification}::jsonb)
    ON CONFLICT ("jobId", "promptIndex", sample) DO NOTHING`;
}

/** The row as stored (one shape for the single and the batched insert). */
function toRowData(jobId: string, row: GeneratedRow, prompt: string | null) {
  const c = row.completion;
  const v = row.verification;
  return {
    jobId,
    promptIndex: row.promptIndex,
    sample: row.sample,
    status: row.status,
    prompt,
    reasoning: c?.reasoning ?? null,
    answer: c ? c.answer : null,
    finishReason: c?.finishReason ?? null,
    reasoningSource: c?.reasoningSource ?? null,
    promptTokens: c?.usage.promptTokens ?? 0,
    completionTokens: c?.usage.completionTokens ?? 0,
    reasoningTokens: c?.usage.reasoningTokens ?? 0,
    latencyMs: Math.round(c?.latencyMs ?? 0),
    tries: row.tries,
    error: row.error ?? null,
    isVerified: v?.isVerified ?? false,
    ...(v ? { verification: v as unknown as Prisma.InputJsonValue } : {}),
  };
}

/** Several rows in one statement, idempotent on (job, prompt, sample) like the single insert. */
export async function insertGenerationRows(
  db: Db,
  jobId: string,
  rows: readonly { row: GeneratedRow; prompt: string | null }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.generationRow.createMany({
    data: rows.map((r) => toRowData(jobId, r.row, r.prompt)),
    skipDuplicates: true,
  });
}

/**
 * Rows as they arrive, written in batches, one multi-row INSERT at a time: `add` resolves once
 * its row is stored (so a row is counted only when it is in Postgres). With no write in flight a
 * batch goes at once — the rows that arrived in the same turn of the event loop together (or
 * those of the first `maxWaitMs`, when set) — so a row does not wait on a timer; while one is in
 * flight, the rows that come meanwhile wait for it and go next, together (at most `maxRows` a
 * batch). A failed write rejects its rows' adds.
 */
export function createRowBatcher<T>(
  write: (rows: T[]) => Promise<void>,
  options: { maxRows?: number; maxWaitMs?: number } = {},
) {
  const maxRows = options.maxRows ?? 200;
  const maxWaitMs = options.maxWaitMs ?? 0;
  let pending: { row: T; resolve: () => void; reject: (e: unknown) => void }[] = [];
  let isScheduled = false;
  let isWriting = false;
  const flush = () => {
    isScheduled = false;
    if (isWriting || pending.length === 0) return;
    const batch = pending.length <= maxRows ? pending : pending.slice(0, maxRows);
    pending = batch === pending ? [] : pending.slice(maxRows);
    isWriting = true;
    write(batch.map((b) => b.row))
      .then(
        () => {
          for (const b of batch) b.resolve();
        },
        (e) => {
          for (const b of batch) b.reject(e);
        },
      )
      .finally(() => {
        isWriting = false;
        // the rows that came during the write go now, together
        flush();
      });
  };
  const schedule = () => {
    if (isScheduled) return;
    isScheduled = true;
    if (maxWaitMs > 0) setTimeout(flush, maxWaitMs);
    else setImmediate(flush);
  };
  return {
    add(row: T): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        pending.push({ row, resolve, reject });
        // while a write is in flight, its end sends what waits
        if (isWriting) return;
        if (pending.length >= maxRows) flush();
        else schedule();
      });
    },
    flush,
  };
}

/** What a resumed job already has: never asked for again. */
export async function listStoredAttempts(db: Db, jobId: string): Promise<StoredAttempt[]> {
  const rows = await db.generationRow.findMany({
    where: { jobId },
    select: {
      promptIndex: true,
      sample: true,
      isVerified: true,
      reasoning: true,
      answer: true,
      status: true,
    },
    orderBy: { id: "asc" },
  });
  return rows.map((r) => ({
    promptIndex: r.promptIndex,
    sample: r.sample,
    isVerified: r.isVerified,
    key: r.status === "ok" ? completionKey(r.reasoning, r.answer ?? "") : null,
  }));
}

export interface GenerationTotals {
  done: number;
  accepted: number;
  failed: number;
  truncated: number;
  duplicates: number;
  tokensIn: number;
  tokensOut: number;
  reasoningTokens: number;
  retries: number;
  /** prompts with at least one accepted row */
  promptsAccepted: number;
}

/** The job's totals from its stored rows (the page's figures, exact after a resume). */
export async function sumGenerationRows(db: Db, jobId: string): Promise<GenerationTotals> {
  const rows = await db.$queryRaw<Record<string, bigint | number | null>[]>`
    SELECT count(*) AS done,
      count(*) FILTER (WHERE "isVerified") AS accepted,
      count(*) FILTER (WHERE status = 'failed') AS failed,
      count(*) FILTER (WHERE "finishReason" = 'length') AS truncated,
      count(*) FILTER (WHERE (verification->>'isDuplicate')::boolean) AS duplicates,
      COALESCE(sum("promptTokens"), 0) AS "tokensIn",
      COALESCE(sum("completionTokens"), 0) AS "tokensOut",
      COALESCE(sum("reasoningTokens"), 0) AS "reasoningTokens",
      COALESCE(sum(tries - 1), 0) AS retries,
      count(DISTINCT "promptIndex") FILTER (WHERE "isVerified") AS "promptsAccepted"
    FROM "GenerationRow" WHERE "jobId" = ${jobId}`;
  const r = rows[0] ?? {};
  const n = (k: string) => Number(r[k] ?? 0);
  return {
    done: n("done"),
    accepted: n("accepted"),
    failed: n("failed"),
    truncated: n("truncated"),
    duplicates: n("duplicates"),
    tokensIn: n("tokensIn"),
    tokensOut: n("tokensOut"),
    reasoningTokens: n("reasoningTokens"),
    retries: n("retries"),
    promptsAccepted: n("promptsAccepted"),
  };
}

export function getGenerationJob(db: Db, workspaceId: string, id: string) {
  return db.generationJob.findFirst({
    where: { id, workspaceId },
    include: {
      teacher: { select: { id: true, name: true, model: true, priceInPerM: true, priceOutPerM: true } },
    },
  });
}

export function listGenerationJobs(
  db: Db,
  workspaceId: string,
  filter: { status?: string[]; take?: number } = {},
) {
  return db.generationJob.findMany({
    where: { workspaceId, ...(filter.status ? { status: { in: filter.status } } : {}) },
    orderBy: { createdAt: "desc" },
    take: filter.take ?? 50,
    select: {
      id: true,
      name: true,
      status: true,
      total: true,
      createdAt: true,
      startedAt: true,
      finishedAt: true,
      error: true,
      progress: true,
      resultVersionId: true,
      claimedById: true,
      teacher: { select: { id: true, name: true, model: true } },
    },
  });
}

/** The newest rows (for the live page), newest first, after `afterId` when given. */
export function listGenerationRows(db: Db, jobId: string, options: { take?: number; afterId?: bigint } = {}) {
  return db.generationRow.findMany({
    where: { jobId, ...(options.afterId !== undefined ? { id: { gt: options.afterId } } : {}) },
    orderBy: { id: "desc" },
    take: options.take ?? 20,
  });
}
