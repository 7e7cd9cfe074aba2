import { checkThinkFormat, scoreResponse } from "@distillery/core";
import type { Db, Prisma } from "@distillery/db";
import type { ModelPool } from "@distillery/inference";
import type { BlobStore } from "@distillery/storage";
import type { RetryPolicy } from "@distillery/teacher";
import { computeEvaluationMetrics, type ExampleResult, type SampleScore } from "./evaluation-metrics.ts";
import { loadEvalSet } from "./load-eval-set.ts";
import { createServedModelSampler, createTeacherSampler, type Sampler, teacherIdOf } from "./samplers.ts";
import { ZEvalSet, ZEvalSettings } from "./schemas.ts";

export { type EvalSettings, ZEvalSettings } from "./schemas.ts";

export type EvaluationOutcome = "succeeded" | "cancelled" | "failed" | "skipped";

export interface RunEvaluationOptions {
  db: Db;
  store: BlobStore;
  pool: ModelPool;
  evaluationId: string;
  workerId: string;
  cacheDir: string;
  /** the worker is shutting down: stop between examples, leave the evaluation to resume */
  signal?: AbortSignal;
  /** examples in flight at once (the model batches them) */
  concurrency?: number;
  heartbeatMs?: number;
  /** opens teacher API keys (evaluations of a teacher endpoint, model `teacher:<id>`) */
  secretKey?: Buffer;
  /** retries of a teacher request (default: the teachers' own policy) */
  teacherRetry?: RetryPolicy;
  /** a model served elsewhere (a GPU worker's server): its sampler, or null for the pool */
  servedSampler?: (workspaceId: string, modelId: string) => Promise<Sampler | null>;
}

class Cancelled extends Error {}

/**
 * Runs one evaluation to its end: claims it (a conditional update that bumps `attempt`, the
 * fencing token of every later write), answers the examples not stored yet (several at once, so
 * the model's batching loop decodes them together), stores each example as it is scored
 * (idempotent on (evaluation, index)), stops between examples when cancelled, and writes the
 * metrics computed from every stored example.
 */
export async function runEvaluation(o: RunEvaluationOptions): Promise<EvaluationOutcome> {
  const { db } = o;
  const claimed = await db.evaluation.updateMany({
    where: { id: o.evaluationId, status: { in: ["queued", "running"] }, cancelRequestedAt: null },
    data: {
      status: "running",
      claimedById: o.workerId,
      attempt: { increment: 1 },
      heartbeatAt: new Date(),
      error: null,
    },
  });
  if (claimed.count === 0) {
    // cancelled while queued: say so; finished ones stay as they are
    await db.evaluation.updateMany({
      where: { id: o.evaluationId, status: { in: ["queued", "running"] } },
      data: { status: "cancelled", finishedAt: new Date() },
    });
    return "skipped";
  }
  const ev = await db.evaluation.findUniqueOrThrow({ where: { id: o.evaluationId } });
  const fence = { id: ev.id, attempt: ev.attempt, claimedById: o.workerId };
  if (!ev.startedAt) await db.evaluation.updateMany({ where: fence, data: { startedAt: new Date() } });
  const heartbeat = setInterval(() => {
    db.evaluation.updateMany({ where: fence, data: { heartbeatAt: new Date() } }).catch(() => {});
  }, o.heartbeatMs ?? 5_000);
  const stop = new AbortController();
  const onShutdown = () => stop.abort();
  o.signal?.addEventListener("abort", onShutdown, { once: true });
  try {
    const settings = ZEvalSettings.parse(ev.settings);
    const set = ZEvalSet.parse(ev.evalSet);
    const problems = await loadEvalSet(db, o.store, ev.workspaceId, set, o.cacheDir);
    await db.evaluation.updateMany({ where: fence, data: { total: problems.length } });
    const stored = await db.evaluationResult.findMany({
      where: { evaluationId: ev.id },
      select: { index: true },
    });
    const done = new Set(stored.map((r) => r.index));
    const todo = problems.map((_, i) => i).filter((i) => !done.has(i));
    const teacherId = teacherIdOf(ev.model);
    const sampler: Sampler = teacherId
      ? await createTeacherSampler(db, o.secretKey, ev.workspaceId, teacherId, {
          ...(o.teacherRetry ? { retry: o.teacherRetry } : {}),
        })
      : ((await o.servedSampler?.(ev.workspaceId, ev.model)) ??
        (await createServedModelSampler(o.pool, ev.model)));
    const count = sampler.count;
    let doneCount = done.size;
    let generated = 0;
    const started = performance.now();
    let checkedAt = 0;
    const checkCancel = async () => {
      if (performance.now() - checkedAt < 500) return;
      checkedAt = performance.now();
      const row = await db.evaluation.findUnique({
        where: { id: ev.id },
        select: { cancelRequestedAt: true },
      });
      if (row?.cancelRequestedAt) {
        stop.abort();
        throw new Cancelled();
      }
    };
    const answer = async (index: number) => {
      const problem = problems[index];
      if (!problem) return;
      const t0 = performance.now();
      const samples = await sampler.sample(problem, settings, settings.seed + index * 7919, stop.signal);
      if (stop.signal.aborted) return;
      const seconds = (performance.now() - t0) / 1000;
      const outputs = samples.map((c) => c.text);
      const scores: SampleScore[] = samples.map((c) => {
        const s = scoreResponse(c.text, problem.reference, { countTokens: count });
        generated += c.completionTokens;
        return {
          answer: s.answer,
          isCorrect: s.isCorrect,
          isFormatCompliant: s.isFormatCompliant,
          reasoningTokens: s.reasoningTokens ?? 0,
          answerTokens: count(checkThinkFormat(c.text).answer),
          completionTokens: c.completionTokens,
          isTruncated: c.finishReason === "length",
        };
      });
      const first = scores[0];
      const prompted = problem.messages.map((m) => m.content).join("\n\n");
      await db.evaluationResult.createMany({
        data: [
          {
            evaluationId: ev.id,
            index,
            prompt: prompted,
            reference: problem.reference,
            outputs: outputs as Prisma.InputJsonValue,
            scores: scores as unknown as Prisma.InputJsonValue,
            isCorrect: first?.isCorrect ?? false,
            reasoningTokens: first?.reasoningTokens ?? 0,
            answerTokens: first?.answerTokens ?? 0,
            isTruncated: first?.isTruncated ?? false,
            seconds,
          },
        ],
        skipDuplicates: true,
      });
      doneCount++;
      await db.evaluation.updateMany({ where: fence, data: { done: doneCount } });
    };
    // a few examples in flight: each is a batch member of the model's decoding loop
    let next = 0;
    const lane = async () => {
      while (next < todo.length) {
        if (stop.signal.aborted) return;
        await checkCancel();
        await answer(todo[next++] as number);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 8) }, lane));
    if (o.signal?.aborted) return "skipped";
    const rows = await db.evaluationResult.findMany({
      where: { evaluationId: ev.id },
      orderBy: { index: "asc" },
    });
    const results: ExampleResult[] = rows.map((r) => ({
      index: r.index,
      reference: r.reference,
      scores: r.scores as unknown as SampleScore[],
      seconds: r.seconds,
    }));
    const metrics = computeEvaluationMetrics(results);
    const wall = (performance.now() - started) / 1000;
    // tokens/s of this attempt's wall time (examples ran concurrently, so their own seconds overlap)
    if (generated > 0 && wall > 0) metrics.tokens_per_second = generated / wall;
    await db.evaluation.updateMany({
      where: fence,
      data: {
        status: "succeeded",
        metrics: metrics as unknown as Prisma.InputJsonValue,
        finishedAt: new Date(),
        done: rows.length,
      },
    });
    return "succeeded";
  } catch (e) {
    if (e instanceof Cancelled || (await isCancelRequested(db, ev.id))) {
      await db.evaluation.updateMany({ where: fence, data: { status: "cancelled", finishedAt: new Date() } });
      return "cancelled";
    }
    if (o.signal?.aborted) return "skipped";
    await db.evaluation.updateMany({
      where: fence,
      data: { status: "failed", error: (e as Error).message.slice(0, 2000), finishedAt: new Date() },
    });
    return "failed";
  } finally {
    clearInterval(heartbeat);
    o.signal?.removeEventListener("abort", onShutdown);
  }
}

async function isCancelRequested(db: Db, id: string): Promise<boolean> {
  const row = await db.evaluation.findUnique({ where: { id }, select: { cancelRequestedAt: true } });
  return !!row?.cancelRequestedAt;
}
