import { randomBytes } from "node:crypto";
import { bullmqPriorityFor, queueRankFor } from "@distillery/core";
import { createJob, createRun, type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { createProducer, createRedisConnection, type Producer, QUEUES, runQueueFor } from "@distillery/jobs";
import { startRestartableRedis } from "@distillery/jobs/testing";
import { type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueRun, reapStaleRuns, sweepQueuedWork } from "./queue-maintenance.ts";

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
let redis: Awaited<ReturnType<typeof startRestartableRedis>>;
let connection: Redis;
let producer: Producer;
const log = () => {};

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase(testAdminDatabaseUrl()));
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  redis = await startRestartableRedis();
  connection = createRedisConnection(redis.url, "producer");
  connection.on("error", () => {});
});
afterAll(async () => {
  await producer?.close();
  connection.disconnect();
  await redis.stop();
  await drop();
});

const newRun = (name: string) => createRun(db, { workspaceId, name, engine: "local", config: {} });

/** Runs a real BullMQ worker (one job at a time) on the local runs queue; returns the run ids in order. */
async function drain(prefix: string, count: number): Promise<string[]> {
  const order: string[] = [];
  const workerConnection = createRedisConnection(redis.url, "worker");
  const worker = new Worker(
    QUEUES.runsLocal,
    async (job: Job) => {
      order.push((job.data as { runId: string }).runId);
    },
    { connection: workerConnection, prefix, concurrency: 1 },
  );
  await expect.poll(() => order.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(count);
  await worker.close();
  workerConnection.disconnect();
  return order;
}

describe("queue maintenance", () => {
  it("a run whose worker died resumes before runs launched since", async () => {
    const prefix = `qm${randomBytes(3).toString("hex")}`;
    producer = createProducer(connection, prefix);
    const interrupted = await newRun("interrupted");
    // it was running when its worker died (no heartbeat for a minute)
    await db.run.update({
      where: { id: interrupted.id },
      data: { status: "running", heartbeatAt: new Date(Date.now() - 60_000), attempt: 1 },
    });
    const newer = [await newRun("newer 1"), await newRun("newer 2")];
    // launched as the web launches: a fair-queue priority each (BullMQ's prioritized set)
    for (const [i, r] of newer.entries())
      await producer.enqueue(
        runQueueFor("local"),
        { runId: r.id, workspaceId },
        {
          jobId: r.id,
          priority: bullmqPriorityFor(0, queueRankFor({ userWaiting: i, workspaceWaiting: i })),
        },
      );
    // and one the sweeper put back after an outage (no priority, the tail of the wait list)
    const swept = await newRun("newer 3, swept");
    await enqueueRun(producer, swept, { jobId: swept.id, isInterrupted: false });
    newer.push(swept);

    expect(await reapStaleRuns({ db, producer, staleAfterMs: 10_000, log })).toEqual([interrupted.id]);
    expect(await drain(prefix, 4)).toEqual([interrupted.id, newer[2]?.id, newer[0]?.id, newer[1]?.id]);
    await producer.close();
  });

  it("runs and dataset jobs queued while Redis was down are enqueued once it is back, exactly once", async () => {
    const prefix = `qm${randomBytes(3).toString("hex")}`;
    producer = createProducer(connection, prefix);
    await redis.stop();
    // what the web does while Redis is down: the row is written, the enqueue fails fast
    const run = await newRun("launched during the outage");
    await expect(enqueueRun(producer, run, { jobId: run.id, isInterrupted: false })).rejects.toThrow(
      /Redis is unreachable/,
    );
    const payload = {
      op: "split",
      jobId: "",
      workspaceId,
      versionId: "dsv_x",
      testFraction: 0.1,
      seed: 1,
      template: "phi3",
      maxLength: 2048,
    };
    const job = await createJob(db, { workspaceId, kind: "dataset-split", input: {} });
    await db.job.update({
      where: { id: job.id },
      data: { input: { queuePayload: { ...payload, jobId: job.id } } },
    });
    // nothing is swept while Redis is down
    expect(await sweepQueuedWork({ db, producer, graceMs: 0, log })).toEqual({ runs: [], jobs: [] });

    await redis.start();
    await expect.poll(() => producer.isAvailable(), { timeout: 20_000 }).toBe(true);
    const swept = await sweepQueuedWork({ db, producer, graceMs: 0, log });
    expect(swept.runs).toContain(run.id);
    expect(swept.jobs).toEqual([job.id]);
    // a second sweep (another worker, the next tick) finds them queued and adds nothing
    expect(await sweepQueuedWork({ db, producer, graceMs: 0, log })).toEqual({ runs: [], jobs: [] });
    const datasetJobs = await producer.queue(QUEUES.datasets).getJobs(["waiting"]);
    expect(datasetJobs.map((j) => j.id)).toEqual([job.id]);
    expect(datasetJobs[0]?.data).toMatchObject({ op: "split", jobId: job.id, versionId: "dsv_x" });
    // (the first test's runs are still queued in PostgreSQL too: the sweep took them as well)
    const order = await drain(prefix, swept.runs.length);
    expect(order.filter((id) => id === run.id)).toHaveLength(1);
    expect(new Set(order).size).toBe(order.length);
    expect(await db.run.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: "queued" });
  });
});
