import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineEvent } from "@distillery/core";
import { createRun, type Db, listRunEvents, requestCancelRun } from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { createRedisConnection, createRunEventHub } from "@distillery/jobs";
import { createFsBlobStore } from "@distillery/storage";
import type { Job } from "bullmq";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineLauncher } from "./engine-launcher.ts";
import { RunSetupError } from "./engine-launcher.ts";
import { createRunProcessor } from "./process-run.ts";

const ENGINE = join(import.meta.dirname, "fixtures", "scripted-engine.mjs");
const prefix = `t${randomBytes(3).toString("hex")}`;
let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
const redisUrl = () => process.env.TEST_REDIS_URL ?? "";
const publisher = createRedisConnection(redisUrl(), "worker");
const subscriber = createRedisConnection(redisUrl(), "subscriber");
const hub = createRunEventHub(subscriber, prefix);

/** A launcher that runs the scripted engine; `mode` comes from the run's config. */
const scripted: EngineLauncher = {
  engine: "local",
  async prepare({ run }) {
    const mode = (run.config as { mode: string }).mode;
    if (mode === "missing-dataset")
      throw new RunSetupError("dataset version dv_gone no longer exists", "data.datasetVersionId");
    return {
      steps: [{ name: "train", command: { command: process.execPath, args: [ENGINE, mode, run.id] } }],
    };
  },
};

function processor(shutdown = new AbortController()) {
  return createRunProcessor({
    db,
    log: pino({ level: "silent" }),
    workerId: "w1",
    publisher,
    queuePrefix: prefix,
    dataDir: mkdtempSync(join(tmpdir(), "runs-")),
    heartbeatMs: 200,
    launchers: new Map([["local", scripted]]),
    store: createFsBlobStore(mkdtempSync(join(tmpdir(), "blobs-"))),
    shutdownSignal: shutdown.signal,
    enqueueRun: async () => {},
  });
}
const job = (runId: string) => ({ data: { runId, workspaceId } }) as unknown as Job;
const newRun = (mode: string) =>
  createRun(db, { workspaceId, name: mode, engine: "local", config: { mode } });

beforeAll(async () => {
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker("w1"));
});
afterAll(async () => {
  await drop();
  publisher.disconnect();
  subscriber.disconnect();
});

describe("run processor", () => {
  it("runs the engine, streams its events live, persists them and marks the run succeeded", async () => {
    const run = await newRun("succeed");
    const live: EngineEvent[] = [];
    await hub.subscribe(run.id, (e) => live.push(e));
    expect(await processor()(job(run.id))).toEqual({ status: "succeeded" });
    const row = await db.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(row.status).toBe("succeeded");
    expect(row.summary).toMatchObject({ final: { loss: 1 / 3, eval_loss: 0.25 } });
    const events = await listRunEvents(db, run.id);
    expect(events.map((e) => e.type)).toEqual(["status", "metric", "metric", "metric", "sample", "done"]);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    await expect.poll(() => live.length).toBe(6);
  });

  it("skips a delivery whose run is no longer queued (no second run behind Postgres's back)", async () => {
    const run = await newRun("succeed");
    await processor()(job(run.id));
    expect(await processor()(job(run.id))).toEqual({ skipped: "not queued" });
    expect((await listRunEvents(db, run.id)).length).toBe(6);
  });

  it("fails the run with the engine's error and the field it names", async () => {
    const run = await newRun("fail");
    await processor()(job(run.id));
    const row = await db.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(row.status).toBe("failed");
    expect(row.error).toBe("lora.targetModules: target module nope_proj is not in the model");
  });

  it("fails a run whose dataset disappeared with that reason, before any engine starts", async () => {
    const run = await newRun("missing-dataset");
    await processor()(job(run.id));
    const row = await db.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(row.status).toBe("failed");
    expect(row.error).toBe("dataset version dv_gone no longer exists");
  });

  it("records a line that is not an event as a warning instead of dropping it", async () => {
    const run = await newRun("garbage");
    await processor()(job(run.id));
    const logs = await listRunEvents(db, run.id, { types: ["log"] });
    expect(
      logs.some((e) => e.type === "log" && e.level === "warn" && e.message.includes("this is not an event")),
    ).toBe(true);
  });

  it("stops the engine and marks the run cancelled when the user cancels", async () => {
    const run = await newRun("forever");
    const done = processor()(job(run.id));
    await expect
      .poll(async () => (await listRunEvents(db, run.id, { types: ["metric"] })).length, { timeout: 10_000 })
      .toBeGreaterThan(3);
    expect(await requestCancelRun(db, workspaceId, run.id)).toBe("running");
    expect(await done).toEqual({ status: "cancelled" });
    expect((await db.run.findUniqueOrThrow({ where: { id: run.id } })).status).toBe("cancelled");
  });

  it("hands a run back to the queue when the worker shuts down mid-run", async () => {
    const run = await newRun("forever");
    const shutdown = new AbortController();
    const done = processor(shutdown)(job(run.id));
    await expect
      .poll(async () => (await listRunEvents(db, run.id, { types: ["metric"] })).length, { timeout: 10_000 })
      .toBeGreaterThan(2);
    shutdown.abort();
    expect(await done).toEqual({ status: "released" });
    const row = await db.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(row.status).toBe("queued");
    expect(row.interruptions).toBe(1);
    // the next attempt continues the stream after the last persisted seq
    expect(row.lastSeq).toBe((await listRunEvents(db, run.id)).at(-1)?.seq);
  });
});

describe("run pipelines", () => {
  it("holds a dependent run until its upstream succeeds, then enqueues it", async () => {
    const upstream = await newRun("succeed");
    const downstream = await createRun(db, {
      workspaceId,
      name: "next",
      engine: "local",
      config: { mode: "succeed" },
      dependsOnRunId: upstream.id,
    });
    const enqueued: string[] = [];
    const p = createRunProcessor({
      db,
      log: pino({ level: "silent" }),
      workerId: "w1",
      publisher,
      queuePrefix: prefix,
      dataDir: mkdtempSync(join(tmpdir(), "runs-")),
      heartbeatMs: 200,
      launchers: new Map([["local", scripted]]),
      store: createFsBlobStore(mkdtempSync(join(tmpdir(), "blobs-"))),
      shutdownSignal: new AbortController().signal,
      enqueueRun: async (r) => {
        enqueued.push(r.id);
      },
    });
    expect(await p(job(downstream.id))).toEqual({ skipped: "waiting for its upstream run (queued)" });
    expect(await p(job(upstream.id))).toEqual({ status: "succeeded" });
    expect(enqueued).toEqual([downstream.id]);
    expect(await p(job(downstream.id))).toEqual({ status: "succeeded" });
  });

  it("fails everything downstream of a failed run, with the reason", async () => {
    const upstream = await newRun("fail");
    const mid = await createRun(db, {
      workspaceId,
      name: "mid",
      engine: "local",
      config: { mode: "succeed" },
      dependsOnRunId: upstream.id,
    });
    const last = await createRun(db, {
      workspaceId,
      name: "last",
      engine: "local",
      config: { mode: "succeed" },
      dependsOnRunId: mid.id,
    });
    await processor()(job(upstream.id));
    for (const r of [mid, last]) {
      const row = await db.run.findUniqueOrThrow({ where: { id: r.id } });
      expect(row.status).toBe("failed");
    }
    expect((await db.run.findUniqueOrThrow({ where: { id: mid.id } })).error).toBe(
      `its upstream run ${upstream.id} failed`,
    );
  });
});
