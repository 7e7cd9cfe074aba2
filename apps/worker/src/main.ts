import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  createDb,
  ensureDefaultWorkspace,
  heartbeatWorker,
  markWorkerStopped,
  registerWorker,
  requeueStaleRuns,
} from "@distillery/db";
import {
  createProducer,
  createRedisConnection,
  pingRedis,
  QUEUES,
  redactUrl,
  runQueueFor,
  shutdownGracefully,
} from "@distillery/jobs";
import { Worker } from "bullmq";
import { detectCapabilities } from "./capabilities.ts";
import { startDatasetWorker } from "./datasets/start-dataset-worker.ts";
import { createEchoProcessor } from "./echo-processor.ts";
import { parseWorkerEnv } from "./env.ts";
import { createLogger } from "./logger.ts";
import { startModelWorker } from "./models/start-model-worker.ts";
import { pingDatabase } from "./ping-database.ts";
import { engineDetectors, startRunWorker } from "./runs/start-run-worker.ts";

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

  const producerConnection = createRedisConnection(env.REDIS_URL, "producer");
  const workerConnection = createRedisConnection(env.REDIS_URL, "worker");
  const publisher = createRedisConnection(env.REDIS_URL, "worker");
  const producer = createProducer(producerConnection, env.QUEUE_PREFIX);

  const heartbeat = setInterval(() => {
    heartbeatWorker(db, workerId)
      .then((isKnown) => (isKnown ? undefined : registerWorker(db, registration)))
      .catch((e: Error) => log.warn({ err: e.message }, "worker heartbeat failed"));
  }, env.WORKER_HEARTBEAT_MS);

  // Any worker may reap: the conditional update re-queues each stale run exactly once.
  const reaper = setInterval(
    () => {
      requeueStaleRuns(db, env.RUN_STALE_AFTER_MS)
        .then(async (runs) => {
          for (const r of runs) {
            log.warn({ runId: r.id }, "run's worker stopped heartbeating: re-queued");
            await producer.enqueue(
              runQueueFor(r.engine === "hf" ? "hf" : "local"),
              { runId: r.id, workspaceId: r.workspaceId },
              { jobId: `${r.id}-requeue-${Date.now()}` },
            );
          }
        })
        .catch((e: Error) => log.warn({ err: e.message }, "reaping stale runs failed"));
    },
    Math.max(1_000, Math.floor(env.RUN_STALE_AFTER_MS / 3)),
  );

  const echoWorker = new Worker(QUEUES.echo, createEchoProcessor(db, workerId), {
    connection: workerConnection,
    prefix: env.QUEUE_PREFIX,
    concurrency: 4,
  });
  echoWorker.on("failed", (job, err) => log.error({ jobId: job?.id, err: err.message }, "echo job failed"));

  const datasetWorker = await startDatasetWorker({
    db,
    env,
    log,
    workerId,
    connection: workerConnection,
    queue: producer.queue(QUEUES.datasets),
  });

  const modelWorker = startModelWorker({ db, env, log, workerId, connection: workerConnection });

  const runWorker = await startRunWorker({
    db,
    env,
    log,
    workerId,
    connection: workerConnection,
    publisher,
    engines: caps.engines,
    gpuCount: caps.gpus.length,
  });

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
        },
        () => runWorker.stop(),
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
