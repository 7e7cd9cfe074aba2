import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  createDb,
  ensureDefaultWorkspace,
  heartbeatWorker,
  markWorkerStopped,
  registerWorker,
} from "@distillery/db";
import {
  createProducer,
  createRedisConnection,
  createRedisOutageReporter,
  pingRedis,
  QUEUES,
  redactUrl,
  shutdownGracefully,
} from "@distillery/jobs";
import { Worker } from "bullmq";
import { detectCapabilities } from "./capabilities.ts";
import { startDatasetWorker } from "./datasets/start-dataset-worker.ts";
import { createEchoProcessor } from "./echo-processor.ts";
import { parseWorkerEnv } from "./env.ts";
import { startEvaluationWorker } from "./evaluations/start-evaluation-worker.ts";
import { startGenerationWorker } from "./generations/start-generation-worker.ts";
import { createLogger } from "./logger.ts";
import { startModelWorker } from "./models/start-model-worker.ts";
import { pingDatabase } from "./ping-database.ts";
import { reapStaleRuns, sweepQueuedWork } from "./queue-maintenance.ts";
import { engineDetectors, startRunWorker } from "./runs/start-run-worker.ts";
import { canServeOnGpu, startGpuServing } from "./serving/start-gpu-serving.ts";
import { startTeacherLogitsWorker } from "./teacher-logits/start-teacher-logits-worker.ts";

async function main() {
  const env = parseWorkerEnv(process.env);
  const log = createLogger(env.LOG_LEVEL);
  await pingRedis(env.REDIS_URL).catch((e: Error) => {
    throw new Error(`REDIS_URL: ${e.message}`);
  });
  const db = createDb(env.DATABASE_URL);
  await pingDatabase(db, redactUrl(env.DATABASE_URL));
  const actor = await ensureDefaultWorkspace(db);

  const workerId =
    env.WORKER_ID ?? `wkr_${hostname().slice(0, 20)}_${process.pid}_${randomBytes(3).toString("hex")}`;
  const caps = await detectCapabilities(engineDetectors(env));
  // a worker its supervisor restarted says so (the Workers page shows restarts and the last exit)
  if (env.DISTILLERY_RESTARTS > 0) {
    caps.capabilities.supervisor = {
      restarts: env.DISTILLERY_RESTARTS,
      lastExit: env.DISTILLERY_LAST_EXIT ?? "unknown",
      lastExitAt: env.DISTILLERY_LAST_EXIT_AT ?? "",
    };
  }
  const registration = {
    id: workerId,
    workspaceId: actor.workspaceId,
    version: "0.1.0",
    pid: process.pid,
    ...caps,
  };
  await registerWorker(db, registration);
  log.info({ workerId, engines: caps.engines, gpus: caps.gpus.length }, "worker registered");

  // one log line when Redis drops and one when it is back, for all connections together
  const outages = createRedisOutageReporter(env.REDIS_URL, (level, message) => log[level](message));
  const producerConnection = outages.watch(createRedisConnection(env.REDIS_URL, "producer"));
  const workerConnection = outages.watch(createRedisConnection(env.REDIS_URL, "worker"));
  const publisher = outages.watch(createRedisConnection(env.REDIS_URL, "worker"));
  const producer = createProducer(producerConnection, env.QUEUE_PREFIX);

  const heartbeat = setInterval(() => {
    heartbeatWorker(db, workerId)
      .then((isKnown) => (isKnown ? undefined : registerWorker(db, registration)))
      .catch((e: Error) => log.warn({ err: e.message }, "worker heartbeat failed"));
  }, env.WORKER_HEARTBEAT_MS);

  // Any worker may reap: the conditional update re-queues each stale run exactly once.
  const maintenanceLog = (level: "info" | "warn", message: string) => log[level](message);
  const reaper = setInterval(
    () => {
      reapStaleRuns({ db, producer, staleAfterMs: env.RUN_STALE_AFTER_MS, log: maintenanceLog }).catch(
        (e: Error) => log.warn({ err: e.message }, "reaping stale runs failed"),
      );
    },
    Math.max(1_000, Math.floor(env.RUN_STALE_AFTER_MS / 3)),
  );
  // The outbox sweep: queued rows with no queue job (launched while Redis was down) are enqueued.
  let isSweeping = false;
  const sweeper = setInterval(() => {
    if (isSweeping || outages.isDown()) return;
    isSweeping = true;
    sweepQueuedWork({ db, producer, graceMs: env.QUEUE_SWEEP_GRACE_MS, log: maintenanceLog })
      .catch((e: Error) => log.warn({ err: e.message }, "queue sweep failed"))
      .finally(() => {
        isSweeping = false;
      });
  }, env.QUEUE_SWEEP_EVERY_MS);

  const echoWorker = new Worker(QUEUES.echo, createEchoProcessor(db, workerId), {
    connection: workerConnection,
    prefix: env.QUEUE_PREFIX,
    concurrency: 4,
  });
  outages.quiet(echoWorker, "echo worker");
  echoWorker.on("failed", (job, err) => log.error({ jobId: job?.id, err: err.message }, "echo job failed"));

  const datasetWorker = await startDatasetWorker({
    outages,
    db,
    env,
    log,
    workerId,
    connection: workerConnection,
    queue: () => producer.queue(QUEUES.datasets),
  });

  const modelWorker = startModelWorker({ db, env, log, workerId, connection: workerConnection });
  const evaluationWorker = startEvaluationWorker({ db, env, log, workerId, connection: workerConnection });
  const generationWorker = await startGenerationWorker({
    db,
    env,
    log,
    workerId,
    connection: workerConnection,
  });

  const teacherLogitsWorker = startTeacherLogitsWorker({
    db,
    env,
    log,
    workerId,
    connection: workerConnection,
  });

  // every BullMQ worker re-emits its connections' errors: the outage reporter says them once
  outages.quiet(modelWorker, "model worker");
  outages.quiet(evaluationWorker.worker, "evaluation worker");
  outages.quiet(generationWorker.worker, "generation worker");
  outages.quiet(teacherLogitsWorker.worker, "teacher-logits worker");

  const runWorker = await startRunWorker({
    db,
    env,
    log,
    workerId,
    connection: workerConnection,
    publisher,
    outages,
    engines: caps.engines,
    gpuCount: caps.gpus.length,
  });

  // a worker with a GPU serves `hf` models on demand (the studio's /v1 asks through Redis)
  const gpuServing = canServeOnGpu(env, caps)
    ? startGpuServing({ db, env, log, workerId, caps, watch: (r) => outages.watch(r) })
    : null;

  let isShuttingDown = false;
  const shutdown = async (signal: string) => {
    if (isShuttingDown) return;
    isShuttingDown = true;
    log.info({ signal }, "shutting down");
    await shutdownGracefully({
      before: [
        async () => {
          clearInterval(heartbeat);
          clearInterval(reaper);
          clearInterval(sweeper);
        },
        () => runWorker.stop(),
        () => generationWorker.stop(),
        () => evaluationWorker.stop(),
        () => teacherLogitsWorker.stop(),
        async () => {
          await gpuServing?.stop();
        },
      ],
      workers: [echoWorker, datasetWorker, modelWorker, runWorker.worker],
      queues: [producer],
      redis: [workerConnection, producerConnection, publisher],
    });
    await markWorkerStopped(db, workerId).catch(() => {});
    await db.$disconnect();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  log.info("worker ready");
}

main().catch((e: Error) => {
  console.error(`[worker] cannot start: ${e.message}`);
  process.exit(1);
});
