import type { Db } from "@distillery/db";
import type { BlobStore } from "@distillery/storage";
import { ZGenerationConfig } from "../generation/generation-config.ts";
import { type GeneratedRow, newLiveCounters, runGeneration } from "../generation/run-generation.ts";
import {
  createRowBatcher,
  finishGenerationJob,
  type GenerationLease,
  heartbeatGenerationJob,
  insertGenerationRows,
  listStoredAttempts,
  markGenerationRunning,
  releaseGenerationJob,
  sumGenerationRows,
} from "../store/generation-jobs.ts";
import { loadTeacherEndpoint } from "../store/teachers.ts";
import { isTeacherError, TeacherError } from "../teacher-error.ts";
import { loadGenerationPrompts } from "./load-generation-prompts.ts";
import { type StatsTokenizerResolver, writeGenerationVersion } from "./write-generation-version.ts";

/** The bits of a pino logger the job uses (the worker passes its own). */
export interface JobLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface GenerationDeps {
  db: Db;
  store: BlobStore;
  log: JobLogger;
  /** the result's token statistics (default: bytes) */
  resolveStats?: StatsTokenizerResolver;
  workerId: string;
  secretKey: Buffer;
  heartbeatMs: number;
  /** aborted when the worker shuts down: the job is handed back, not failed */
  shutdownSignal: AbortSignal;
  /** puts a released job back on the queue */
  enqueue: (payload: { generationJobId: string; workspaceId: string }) => Promise<void>;
}

type StopReason = "cancel" | "pause" | "lost" | "shutdown";

/** Tokens/s and rows/s over the last `windowMs`, from (time, tokens) samples. */
function createRateWindow(windowMs: number) {
  const points: { t: number; tokens: number; rows: number }[] = [];
  return {
    add(tokens: number) {
      points.push({ t: Date.now(), tokens, rows: 1 });
    },
    rates() {
      const cutoff = Date.now() - windowMs;
      while (points.length > 0 && (points[0]?.t ?? 0) < cutoff) points.shift();
      const span = Math.max(1, Math.min(windowMs, Date.now() - (points[0]?.t ?? Date.now()))) / 1000;
      const tokens = points.reduce((s, p) => s + p.tokens, 0);
      return {
        tokensPerS: points.length ? tokens / Math.max(span, 1) : 0,
        rowsPerS: points.length / Math.max(span, 1),
      };
    },
  };
}

/**
 * Runs one claimed generation job to its end: stored rows are never asked for again; every
 * completion is stored as it arrives; the heartbeat renews the lease, carries the live figures
 * and brings cancel / pause requests. A wrong key fails the job at once, naming the teacher.
 */
export async function executeGenerationJob(
  deps: GenerationDeps,
  lease: GenerationLease,
  payload: { generationJobId: string; workspaceId: string },
) {
  const { db, log } = deps;
  const job = await db.generationJob.findFirst({ where: { id: lease.jobId } });
  if (!job) return { status: "missing" };
  const fail = async (error: string) => {
    await finishGenerationJob(db, lease, { status: "failed", error });
    return { status: "failed", error };
  };
  const parsed = ZGenerationConfig.safeParse(job.config);
  if (!parsed.success) return fail(`the job's settings are invalid: ${parsed.error.issues[0]?.message}`);
  const config = parsed.data;
  if (!job.teacherId) return fail("the job's teacher was deleted");
  let endpoint: Awaited<ReturnType<typeof loadTeacherEndpoint>>;
  try {
    endpoint = await loadTeacherEndpoint(db, deps.secretKey, job.workspaceId, job.teacherId);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (!endpoint) return fail("the job's teacher was deleted");
  let loaded: Awaited<ReturnType<typeof loadGenerationPrompts>>;
  try {
    loaded = await loadGenerationPrompts({ db, store: deps.store }, job, config);
  } catch (e) {
    return fail(`cannot read the prompts: ${(e as Error).message}`);
  }
  const stored = await listStoredAttempts(db, lease.jobId);
  const promptOf = new Map(loaded.prompts.map((p) => [p.index, p.prompt]));
  // rows are stored in small batches as they arrive (a few ms apart at most); a database hiccup is
  // retried, and the insert is idempotent on (job, prompt, sample)
  const batcher = createRowBatcher<{ row: GeneratedRow; prompt: string | null }>(async (rows) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await insertGenerationRows(db, lease.jobId, rows);
      } catch (e) {
        if (attempt >= 4) throw e;
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  });
  await markGenerationRunning(db, lease);
  log.info(
    { jobId: lease.jobId, prompts: loaded.prompts.length, stored: stored.length },
    "generation started",
  );

  const stop = new AbortController();
  let stopReason: StopReason | null = null;
  const stopFor = (reason: StopReason) => {
    if (stopReason) return;
    stopReason = reason;
    stop.abort(new TeacherError("aborted", reason));
  };
  const onShutdown = () => stopFor("shutdown");
  deps.shutdownSignal.addEventListener("abort", onShutdown, { once: true });
  const window = createRateWindow(10_000);
  const live = newLiveCounters();
  let lastError: string | null = null;
  const progress = () => ({
    ...window.rates(),
    inFlight: live.inFlight,
    sessionRetries: live.retries,
    lastError,
    workerId: deps.workerId,
    updatedAt: new Date().toISOString(),
  });
  let isBeating = false;
  const beat = setInterval(() => {
    if (isBeating) return;
    isBeating = true;
    heartbeatGenerationJob(db, lease, progress())
      .then((h) => {
        if (!h.isLeaseHeld) stopFor("lost");
        else if (h.isCancelRequested) stopFor("cancel");
        else if (h.isPauseRequested) stopFor("pause");
      })
      .catch((e: Error) => log.warn({ err: e.message, jobId: lease.jobId }, "generation heartbeat failed"))
      .finally(() => {
        isBeating = false;
      });
  }, deps.heartbeatMs);

  try {
    await runGeneration({
      endpoint,
      sampling: config.sampling,
      prompts: loaded.prompts,
      samplesPerPrompt: config.samplesPerPrompt,
      rejectionAttempts: config.rejectionAttempts,
      concurrency: config.concurrency,
      limits: {
        ...(config.requestsPerMinute ? { requestsPerMinute: config.requestsPerMinute } : {}),
        ...(config.tokensPerMinute ? { tokensPerMinute: config.tokensPerMinute } : {}),
      },
      retry: { maxAttempts: config.maxTries, baseDelayMs: 500, maxDelayMs: 30_000 },
      idleTimeoutMs: config.idleTimeoutMs,
      stream: config.stream,
      stored,
      signal: stop.signal,
      onRetry: (e) => {
        lastError = e.message;
      },
      counters: live,
      persist: async (row: GeneratedRow) => {
        await batcher.add({ row, prompt: promptOf.get(row.promptIndex) ?? null });
        window.add(row.completion?.usage.completionTokens ?? 0);
        if (row.error) lastError = row.error;
      },
    });
  } catch (e) {
    clearInterval(beat);
    deps.shutdownSignal.removeEventListener("abort", onShutdown);
    const reason = stopReason as StopReason | null;
    if (reason === "lost") return { status: "lost" };
    if (reason === "shutdown") {
      await releaseGenerationJob(db, lease);
      await deps.enqueue(payload).catch(() => {});
      return { status: "released" };
    }
    if (reason === "cancel" || reason === "pause") {
      const status = reason === "cancel" ? "cancelled" : "paused";
      await finishGenerationJob(db, lease, {
        status,
        error: reason === "cancel" ? "cancelled" : null,
        progress: { ...progress(), inFlight: 0 },
      });
      return { status };
    }
    const message = isTeacherError(e) ? e.message : `generation failed: ${(e as Error).message}`;
    log.warn({ jobId: lease.jobId, err: message }, "generation failed");
    return fail(message);
  }
  clearInterval(beat);
  deps.shutdownSignal.removeEventListener("abort", onShutdown);

  const totals = await sumGenerationRows(db, lease.jobId);
  const kept = config.keepOnlyVerified ? totals.accepted : totals.done - totals.failed;
  if (kept === 0) {
    return fail(
      `no row to keep: ${totals.done} done, ${totals.failed} failed, ${totals.accepted} verified${lastError ? ` (last error: ${lastError})` : ""}`,
    );
  }
  try {
    const { version } = await writeGenerationVersion(
      { db, store: deps.store, ...(deps.resolveStats ? { resolveStats: deps.resolveStats } : {}) },
      {
        job,
        config,
        prompts: loaded.prompts,
        teacher: { name: endpoint.name, model: endpoint.model, baseUrl: endpoint.baseUrl, api: endpoint.api },
        parentVersionId: loaded.parentVersionId,
      },
    );
    await finishGenerationJob(db, lease, {
      status: "succeeded",
      resultVersionId: version.id,
      progress: { ...progress(), inFlight: 0 },
    });
    log.info({ jobId: lease.jobId, versionId: version.id, rows: version.rowCount }, "generation succeeded");
    return { status: "succeeded", versionId: version.id };
  } catch (e) {
    return fail(`writing the dataset version failed: ${(e as Error).message}`);
  }
}
