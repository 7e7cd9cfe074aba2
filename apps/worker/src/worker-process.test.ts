import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { type Db, DEFAULT_WORKSPACE_ID, isWorkerOnline } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { startRestartableRedis } from "@distillery/jobs/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = join(import.meta.dirname, "main.ts");
let db: Db;
let url: string;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ db, url, drop } = await createTestDatabase(testAdminDatabaseUrl()));
});
afterAll(async () => drop());

function startWorker(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, output: () => out, exited };
}

describe("worker process", () => {
  it("stops at start, naming DATABASE_URL, when it is malformed", async () => {
    const w = startWorker({ DATABASE_URL: "not a url", REDIS_URL: process.env.TEST_REDIS_URL ?? "" });
    expect(await w.exited).toBe(1);
    expect(w.output()).toMatch(/DATABASE_URL: must be a postgresql:\/\/ or postgres:\/\/ URL with a host/);
  });

  it("stops at start, naming REDIS_URL, when Redis is unreachable", async () => {
    const w = startWorker({ DATABASE_URL: url, REDIS_URL: "redis://127.0.0.1:1" });
    expect(await w.exited).toBe(1);
    expect(w.output()).toMatch(/REDIS_URL: cannot connect to Redis at redis:\/\/127.0.0.1:1/);
  });

  it("registers with its capabilities, heartbeats, and turns offline once killed", {
    timeout: 180_000,
  }, async () => {
    const workerId = `wkr_test_${Date.now()}`;
    const w = startWorker({
      DATABASE_URL: url,
      REDIS_URL: process.env.TEST_REDIS_URL ?? "",
      WORKER_ID: workerId,
      WORKER_HEARTBEAT_MS: "300",
      QUEUE_PREFIX: `t${Date.now()}`,
      // what the supervisor of `npm start` tells a worker it restarted after a crash
      DISTILLERY_RESTARTS: "2",
      DISTILLERY_LAST_EXIT: "SIGKILL",
      DISTILLERY_LAST_EXIT_AT: "2026-12-03T12:00:00.000Z",
    });
    await expect
      .poll(() => db.worker.findUnique({ where: { id: workerId } }), { timeout: 150_000 })
      .not.toBeNull();
    const first = await db.worker.findUniqueOrThrow({ where: { id: workerId } });
    expect(first.workspaceId).toBe(DEFAULT_WORKSPACE_ID);
    // the Workers page shows them
    expect((first.capabilities as { supervisor?: unknown }).supervisor).toEqual({
      restarts: 2,
      lastExit: "SIGKILL",
      lastExitAt: "2026-12-03T12:00:00.000Z",
    });
    expect(first.engines).toEqual(expect.arrayContaining(["echo", "local"]));
    expect(first.cpuCount).toBeGreaterThan(0);
    // heartbeats move lastSeenAt forward
    await expect
      .poll(
        async () => (await db.worker.findUniqueOrThrow({ where: { id: workerId } })).lastSeenAt.getTime(),
        { timeout: 5_000 },
      )
      .toBeGreaterThan(first.lastSeenAt.getTime());
    w.child.kill("SIGKILL");
    await w.exited;
    const lapseMs = 1_000;
    await expect
      .poll(
        async () => isWorkerOnline(await db.worker.findUniqueOrThrow({ where: { id: workerId } }), lapseMs),
        { timeout: 5_000 },
      )
      .toBe(false);
    expect(w.output()).not.toMatch(/cannot start/);
  });

  // Two outages: right after the worker registers (its BullMQ workers, queues and the upload-sweep
  // schedule still starting) and again once it is running. It was skipped as flaky; causes, fixed in
  // packages/jobs and the dataset worker: a connection whose handshake finished as Redis died
  // emitted "ready" after another had failed ("back after 0.0 s", then a second "unreachable"; 1 run
  // in 10), and a drop during the schedule's upsert stopped the worker ("cannot start", so no "back"
  // line; every time with the drop 150-200 ms after registration).
  it("logs one line when Redis drops and one when it is back, and no ECONNREFUSED or stack traces", {
    timeout: 300_000,
  }, async () => {
    const redis = await startRestartableRedis();
    const workerId = `wkr_outage_${Date.now()}`;
    const w = startWorker({
      DATABASE_URL: url,
      REDIS_URL: redis.url,
      WORKER_ID: workerId,
      WORKER_HEARTBEAT_MS: "300",
      QUEUE_SWEEP_EVERY_MS: "500",
      QUEUE_PREFIX: `o${Date.now()}`,
      LOG_LEVEL: "info",
    });
    const outage = async () => {
      const mark = w.output().length;
      await redis.stop();
      // long enough for every connection (queues, BullMQ workers, the sweeper) to retry many times
      await expect.poll(() => /is unreachable/.test(w.output().slice(mark)), { timeout: 30_000 }).toBe(true);
      await new Promise((r) => setTimeout(r, 5_000));
      await redis.start();
      await expect.poll(() => /is back after/.test(w.output().slice(mark)), { timeout: 60_000 }).toBe(true);
      // a few more sweeps and heartbeats after the return
      await new Promise((r) => setTimeout(r, 2_000));
      const lines = w.output().slice(mark).split("\n");
      expect(lines.filter((l) => /is unreachable/.test(l))).toHaveLength(1);
      expect(lines.filter((l) => /is back after/.test(l))).toHaveLength(1);
      expect(lines.filter((l) => /ECONNREFUSED|^\s+at /.test(l) && !/is unreachable/.test(l))).toEqual([]);
    };
    try {
      await expect
        .poll(() => db.worker.findUnique({ where: { id: workerId } }), { timeout: 150_000 })
        .not.toBeNull();
      await outage();
      await expect.poll(() => /worker ready/.test(w.output()), { timeout: 60_000 }).toBe(true);
      await outage();
      expect(w.output()).not.toMatch(/cannot start/);
      expect(w.child.exitCode).toBeNull();
    } finally {
      w.child.kill("SIGKILL");
      await w.exited;
      await redis.stop();
    }
  });
});
