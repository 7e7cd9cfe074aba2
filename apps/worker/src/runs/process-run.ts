import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { registerModelDir } from "@distillery/catalog";
import type { EngineEvent } from "@distillery/core";
import {
  claimRun,
  type Db,
  failDependentRuns,
  finishRun,
  getMetricHighWaterMarks,
  heartbeatRun,
  listDependentRuns,
  listRunEvents,
  markRunRunning,
  type RunLease,
  releaseRun,
} from "@distillery/db";
import { forgetPublishedSeq, getPublishedSeq, ZTrainRunPayload } from "@distillery/jobs";
import type { BlobStore } from "@distillery/storage";
import type { Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.ts";
import { createArtifactSync, restoreLatestCheckpoint } from "./artifact-sync.ts";
import { type EngineLauncher, RunSetupError } from "./engine-launcher.ts";
import { createEventPipeline } from "./event-pipeline.ts";
import { pruneUnrecordedCheckpoints } from "./prune-unrecorded-checkpoints.ts";
import { spawnEngine } from "./spawn-engine.ts";

type StopReason = "cancel" | "lease-lost" | "shutdown";

export interface RunProcessorDeps {
  db: Db;
  log: Logger;
  workerId: string;
  publisher: Redis;
  queuePrefix: string;
  dataDir: string;
  heartbeatMs: number;
  launchers: Map<string, EngineLauncher>;
  /** artifacts and (remote stores) checkpoints are copied here */
  store: BlobStore;
  /** aborted when the worker shuts down: running engines are stopped and their runs released */
  shutdownSignal: AbortSignal;
  /** enqueues a run (after a graceful release, or once the run it depends on succeeded) */
  enqueueRun: (
    run: { id: string; workspaceId: string; engine: string },
    options?: { isInterrupted?: boolean },
  ) => Promise<void>;
}

/**
 * The run processor. Postgres decides: a delivery whose claim fails (the run is no longer
 * queued) is skipped, so BullMQ redelivering a job can never run a run twice. The BullMQ job
 * always completes; the run's outcome lives in its row.
 */
export function createRunProcessor(deps: RunProcessorDeps) {
  return async (job: Job) => {
    const { runId } = ZTrainRunPayload.parse(job.data);
    // a run in a pipeline waits for its upstream run; it is enqueued again when that succeeds
    const upstream = (
      await deps.db.run.findUnique({
        where: { id: runId },
        select: { dependsOn: { select: { status: true } } },
      })
    )?.dependsOn;
    if (upstream && upstream.status !== "succeeded")
      return { skipped: `waiting for its upstream run (${upstream.status})` };
    const lease = await claimRun(deps.db, runId, deps.workerId);
    if (!lease) return { skipped: "not queued" };
    const log = deps.log.child({ runId, attempt: lease.attempt });
    let result: { status: string };
    try {
      result = await executeRun(deps, lease, log);
    } catch (e) {
      log.error({ err: (e as Error).message }, "run failed in the worker");
      await finishRun(deps.db, lease, { status: "failed", error: `worker error: ${(e as Error).message}` });
      result = { status: "failed" };
    }
    if (result.status === "succeeded" || result.status === "failed" || result.status === "cancelled")
      await forgetPublishedSeq(deps.publisher, runId, deps.queuePrefix).catch((e: Error) =>
        log.warn({ err: e.message }, "could not drop the run's published-seq mark"),
      );
    if (result.status === "succeeded") {
      for (const next of await listDependentRuns(deps.db, runId)) await deps.enqueueRun(next);
    } else if (result.status === "failed" || result.status === "cancelled") {
      await failDependentRuns(deps.db, runId, `its upstream run ${runId} ${result.status}`);
    }
    return result;
  };
}

/** `output.registerModelAs`: the trained model becomes a base model other runs can start from. */
async function registerOutputModel(
  deps: RunProcessorDeps,
  run: { id: string; workspaceId: string; config: unknown },
  dir: string | undefined,
  log: (level: "info" | "warn" | "error", message: string) => void,
): Promise<string | undefined> {
  const name = (run.config as { output?: { registerModelAs?: string } }).output?.registerModelAs;
  if (!name) return undefined;
  if (!dir) {
    log("warn", `output.registerModelAs: the engine wrote no merged or full model to register as ${name}`);
    return undefined;
  }
  const model = await registerModelDir(deps.db, deps.store, { workspaceId: run.workspaceId, name, dir });
  log("info", `registered the trained model as ${name} (${model.id})`);
  return model.id;
}

async function executeRun(deps: RunProcessorDeps, lease: RunLease, log: Logger) {
  const { db } = deps;
  const run = await db.run.findUniqueOrThrow({ where: { id: lease.runId } });
  const launcher = deps.launchers.get(run.engine);
  if (!launcher) {
    await finishRun(db, lease, {
      status: "failed",
      error: `no launcher for engine "${run.engine}" on this worker`,
    });
    return { status: "failed" };
  }
  if (!(await markRunRunning(db, lease))) return { status: "lease-lost" };

  const stop = new AbortController();
  let stopReason: StopReason | undefined;
  const stopWith = (reason: StopReason) => {
    if (stopReason) return;
    stopReason = reason;
    log.info({ reason }, "stopping the engine");
    stop.abort();
  };
  const onShutdown = () => stopWith("shutdown");
  deps.shutdownSignal.addEventListener("abort", onShutdown, { once: true });
  const heartbeat = setInterval(() => {
    heartbeatRun(db, lease)
      .then((h) => {
        if (!h.isLeaseHeld) stopWith("lease-lost");
        else if (h.isCancelRequested) stopWith("cancel");
      })
      .catch((e: Error) => log.warn({ err: e.message }, "run heartbeat failed"));
  }, deps.heartbeatMs);

  const pipeline = createEventPipeline({
    db,
    lease,
    publisher: deps.publisher,
    prefix: deps.queuePrefix,
    onLeaseLost: () => stopWith("lease-lost"),
    onError: (e) => log.warn({ err: e.message }, "event pipeline"),
  });
  const artifacts = createArtifactSync({
    db,
    store: deps.store,
    run,
    onError: (e) => emitWorkerLog("warn", `copying an artifact to storage failed: ${e.message}`),
  });
  let done: Extract<EngineEvent, { type: "done" }> | undefined;
  let trainedModelDir: string | undefined;
  let engineError: Extract<EngineEvent, { type: "error" }> | undefined;
  const latest: Record<string, number> = {};
  const evals: Record<string, Record<string, number>> = {};
  // The worker numbers the run's stream: it continues after the last persisted event, or after
  // the last one published live when that is higher (a killed worker's unpersisted tail), so a
  // resumed run (new engine process, new worker) never gives a seq that a browser already holds
  // to a different event; the worker's own log lines interleave with the engine's without
  // colliding.
  const published = await getPublishedSeq(deps.publisher, run.id, deps.queuePrefix);
  let nextSeq = Math.max(run.lastSeq, published ?? -1) + 1;
  const highWater =
    run.interruptions > 0 ? await getMetricHighWaterMarks(db, run.id) : new Map<string, number>();
  const lastSampleStep = highWater.size > 0 ? Math.max(...highWater.values()) : -1;
  /** drops what a resumed engine re-emits for steps already stored */
  const isReplayed = (e: EngineEvent): EngineEvent | null => {
    if (highWater.size === 0) return e;
    if (e.type === "sample" && e.step <= lastSampleStep) return null;
    if (e.type !== "metric") return e;
    const fresh = Object.entries(e.values).filter(([k]) => e.step > (highWater.get(k) ?? -1));
    if (fresh.length === 0) return null;
    return { ...e, values: Object.fromEntries(fresh) };
  };
  const emitWorkerLog = (level: "info" | "warn" | "error", message: string) =>
    pipeline.push({ type: "log", runId: run.id, seq: nextSeq++, ts: Date.now(), level, message });

  try {
    const runDir = join(deps.dataDir, "runs", run.id);
    mkdirSync(runDir, { recursive: true });
    if (run.interruptions > 0) {
      const pruned = await pruneUnrecordedCheckpoints(db, run.id, join(runDir, "out"));
      const latest = (await listRunEvents(db, run.id, { types: ["checkpoint"] })).at(-1);
      const rel = latest?.type === "checkpoint" ? latest.path.split(`/runs/${run.id}/`)[1] : undefined;
      if (rel && (await restoreLatestCheckpoint(deps.store, run.id, join(runDir, rel)))) {
        emitWorkerLog(
          "info",
          `restored the checkpoint at step ${latest?.type === "checkpoint" ? latest.step : "?"} from blob storage`,
        );
      }
      emitWorkerLog(
        "warn",
        `resuming on worker ${deps.workerId} (attempt ${lease.attempt}) after an interruption` +
          (pruned.length > 0
            ? `; dropped checkpoints at steps ${pruned.join(", ")} whose events were never recorded`
            : ""),
      );
    }
    let prepared: Awaited<ReturnType<EngineLauncher["prepare"]>>;
    try {
      prepared = await launcher.prepare({ db, run, runDir, startSeq: nextSeq });
    } catch (e) {
      const message =
        e instanceof RunSetupError ? e.message : `could not prepare the run: ${(e as Error).message}`;
      emitWorkerLog("error", message);
      await pipeline.close();
      await finishRun(db, lease, { status: "failed", error: message });
      return { status: "failed" };
    }
    let exit: Awaited<ReturnType<typeof spawnEngine>> | undefined;
    let failedStep: string | undefined;
    for (const step of prepared.steps) {
      log.info({ step: step.name }, "starting run step");
      exit = await spawnEngine(
        step.command,
        {
          onEvent: (raw) => {
            if (raw.runId !== run.id) return;
            const kept = isReplayed(raw);
            if (!kept) return;
            const e = { ...kept, seq: nextSeq++ };
            if (e.type === "metric") Object.assign(latest, e.values);
            if (e.type === "eval") Object.assign(evals, { [e.name]: e.metrics });
            if (e.type === "done") done = e;
            if (e.type === "artifact" && (e.kind === "merged" || e.kind === "model"))
              trainedModelDir = e.path;
            if (e.type === "error") engineError = e;
            pipeline.push(e);
            artifacts.handle(e);
          },
          onBadLine: (line, error) =>
            emitWorkerLog("warn", `${step.name} printed a line that is not an event (${error}): ${line}`),
        },
        { signal: stop.signal },
      );
      if (exit.stderrTail.trim() && exit.code !== 0)
        log.warn({ step: step.name, stderr: exit.stderrTail.slice(-1_000) }, "engine stderr");
      if (stopReason) break;
      if (exit.code !== 0 || engineError) {
        failedStep = step.name;
        break;
      }
    }
    await pipeline.close();

    await artifacts.flush();
    if (stopReason === "lease-lost") return { status: "lease-lost" };
    if (stopReason === "shutdown") {
      if (await releaseRun(db, lease)) await deps.enqueueRun(run, { isInterrupted: true });
      return { status: "released" };
    }
    if (stopReason === "cancel") {
      await finishRun(db, lease, { status: "cancelled", summary: { final: latest } });
      return { status: "cancelled" };
    }
    if (done && !failedStep) {
      const registered = await registerOutputModel(deps, run, trainedModelDir, emitWorkerLog);
      await pipeline.close();
      await finishRun(db, lease, {
        status: "succeeded",
        summary: {
          final: { ...latest, ...done.metrics },
          evals,
          ...(registered ? { registeredModelId: registered } : {}),
        },
      });
      return { status: "succeeded" };
    }
    const reason =
      engineError?.message ??
      (exit
        ? `${failedStep ?? "engine"} exited with ${exit.signal ?? `code ${exit.code}`}${exit.stderrTail ? `: ${exit.stderrTail.trim().slice(-600)}` : ""}`
        : "the engine never reported done");
    await finishRun(db, lease, {
      status: "failed",
      error: engineError?.field ? `${engineError.field}: ${reason}` : reason,
      summary: { final: latest, evals },
    });
    return { status: "failed" };
  } finally {
    clearInterval(heartbeat);
    deps.shutdownSignal.removeEventListener("abort", onShutdown);
    await pipeline.close();
  }
}
