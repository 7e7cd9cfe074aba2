import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readVersionRows } from "@distillery/datasets";
import { type Db, ensureDefaultWorkspace } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { createProducer, createRedisConnection, QUEUES } from "@distillery/jobs";
import { ZGenerationConfig } from "@distillery/teacher";
import { createGenerationJob, createTeacher } from "@distillery/teacher/store";
import { type FakeTeacher, startFakeTeacher } from "@distillery/teacher/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = join(import.meta.dirname, "..", "main.ts");
const dataDir = mkdtempSync(join(tmpdir(), "gen-kill-"));
const prefix = `gk${randomBytes(3).toString("hex")}`;
const secretKey = randomBytes(32);
let db: Db;
let url: string;
let drop: () => Promise<void>;
let workspaceId: string;
let teacher: FakeTeacher;
const children: ChildProcess[] = [];

function startWorker(id: string): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: url,
      REDIS_URL: process.env.TEST_REDIS_URL ?? "",
      DISTILLERY_DATA_DIR: dataDir,
      DISTILLERY_SECRET_KEY: secretKey.toString("hex"),
      QUEUE_PREFIX: prefix,
      WORKER_ID: id,
      WORKER_HEARTBEAT_MS: "300",
      RUN_STALE_AFTER_MS: "2000",
      HF_ENGINE: "0",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  children.push(child);
  return child;
}

beforeAll(async () => {
  ({ db, url, drop } = await createTestDatabase(testAdminDatabaseUrl()));
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  teacher = await startFakeTeacher({ delayMs: 60, apiKey: "sk-test", chunkIntervalMs: 1 });
});
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await teacher?.close();
  await drop?.();
});

describe("a worker killed with kill -9 mid generation job", () => {
  it("resumes on another worker and never asks again for a completion it stored", async () => {
    const t = await createTeacher(db, secretKey, {
      workspaceId,
      name: "fake R1",
      api: "openai",
      baseUrl: teacher.baseUrl,
      model: "fake-r1",
      apiKey: "sk-test",
      priceInPerM: 1,
      priceOutPerM: 2,
    });
    const prompts = Array.from({ length: 150 }, (_, i) => ({
      prompt: `What is ${i} + ${i + 3}?`,
      reference: String(2 * i + 3),
    }));
    const concurrency = 4;
    const config = ZGenerationConfig.parse({
      source: { kind: "prompts" },
      concurrency,
      outputDatasetName: "kill-9 traces",
    });
    const job = await createGenerationJob(db, {
      workspaceId,
      name: "kill-9",
      teacherId: t.id,
      config,
      prompts,
      total: prompts.length,
    });
    const connection = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "worker");
    const producer = createProducer(connection, prefix);
    await producer.enqueue(QUEUES.generations, { generationJobId: job.id, workspaceId }, { jobId: job.id });

    const first = startWorker("wkr_gen_first");
    await expect
      .poll(() => db.generationRow.count({ where: { jobId: job.id } }), { timeout: 90_000, interval: 100 })
      .toBeGreaterThan(20);
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const before = await db.generationRow.findMany({
      where: { jobId: job.id },
      select: { promptIndex: true },
    });
    expect(before.length).toBeLessThan(prompts.length);
    const requestsAtKill = teacher.requests.length;

    startWorker("wkr_gen_second");
    await expect
      .poll(async () => (await db.generationJob.findUniqueOrThrow({ where: { id: job.id } })).status, {
        timeout: 200_000,
        interval: 300,
      })
      .toMatch(/succeeded|failed|cancelled/);
    const done = await db.generationJob.findUniqueOrThrow({ where: { id: job.id } });
    expect({ status: done.status, error: done.error }).toEqual({ status: "succeeded", error: null });
    expect(done).toMatchObject({ interruptions: 1, attempt: 2, claimedById: "wkr_gen_second" });

    // every prompt once, no duplicate, all verified
    const rows = await db.generationRow.findMany({
      where: { jobId: job.id },
      orderBy: { promptIndex: "asc" },
    });
    expect(rows.map((r) => r.promptIndex)).toEqual(prompts.map((_, i) => i));
    expect(rows.every((r) => r.status === "ok" && r.isVerified)).toBe(true);
    // a completion stored before the kill was never asked for again
    for (const r of before) expect(teacher.requestsFor(prompts[r.promptIndex]?.prompt as string)).toBe(1);
    // only the requests in flight at the kill were asked twice
    expect(teacher.requests.length - prompts.length).toBeLessThanOrEqual(requestsAtKill - before.length);
    // each slot may hold one request in flight and one answer whose row write is in flight
    expect(teacher.requests.length - prompts.length).toBeLessThanOrEqual(2 * concurrency);

    // the result: a dataset version in the R1 shape, with metadata and provenance
    const version = await db.datasetVersion.findUniqueOrThrow({
      where: { id: done.resultVersionId as string },
    });
    expect(version.rowCount).toBe(prompts.length);
    expect(version.operation).toMatchObject({
      kind: "generate",
      generationJobId: job.id,
      teacher: { name: "fake R1", model: "fake-r1" },
    });
    const out = [];
    for await (const row of readVersionRows(join(dataDir, "blobs", version.blobKey as string))) out.push(row);
    expect(out[5]).toMatchObject({
      messages: [{ role: "user", content: expect.stringContaining("What is 5 + 8?") }],
      answer: "The sum is \\boxed{13}.",
      reference: "13",
      meta: { teacher: "fake R1", model: "fake-r1", verified: true, finishReason: "stop" },
    });
    expect(out[5]?.reasoning).toContain("5 + 8 = 13");
    // the key never reached a row, the job or the version
    const text = JSON.stringify({ done, rows, version }, (_, v) => (typeof v === "bigint" ? String(v) : v));
    expect(text).not.toContain("sk-test");
    await producer.close();
    connection.disconnect();
  }, 300_000);

  it("a worker stopped with SIGTERM hands the job back; another finishes it without asking again", async () => {
    // only this test's workers
    for (const c of children.splice(0)) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill("SIGKILL");
        await new Promise((r) => c.once("exit", r));
      }
    }
    const t = await db.teacher.findFirstOrThrow({ where: { workspaceId, name: "fake R1" } });
    const prompts = Array.from({ length: 120 }, (_, i) => ({
      prompt: `What is ${i} + ${i + 500}?`,
      reference: String(2 * i + 500),
    }));
    const config = ZGenerationConfig.parse({
      source: { kind: "prompts" },
      concurrency: 4,
      outputDatasetName: "sigterm traces",
    });
    const job = await createGenerationJob(db, {
      workspaceId,
      name: "sigterm",
      teacherId: t.id,
      config,
      prompts,
      total: prompts.length,
    });
    const connection = createRedisConnection(process.env.TEST_REDIS_URL ?? "", "worker");
    const producer = createProducer(connection, prefix);
    await producer.enqueue(QUEUES.generations, { generationJobId: job.id, workspaceId }, { jobId: job.id });
    const worker = startWorker("wkr_gen_term");
    await expect
      .poll(() => db.generationRow.count({ where: { jobId: job.id } }), { timeout: 90_000, interval: 100 })
      .toBeGreaterThan(20);
    worker.kill("SIGTERM");
    await new Promise((r) => worker.once("exit", r));
    const handedBack = await db.generationJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(handedBack).toMatchObject({ status: "queued", interruptions: 1, claimedById: null });
    const before = await db.generationRow.findMany({
      where: { jobId: job.id },
      select: { promptIndex: true },
    });
    expect(before.length).toBeLessThan(prompts.length);

    startWorker("wkr_gen_after_term");
    await expect
      .poll(async () => (await db.generationJob.findUniqueOrThrow({ where: { id: job.id } })).status, {
        timeout: 200_000,
        interval: 300,
      })
      .toMatch(/succeeded|failed|cancelled/);
    const done = await db.generationJob.findUniqueOrThrow({ where: { id: job.id } });
    expect({ status: done.status, error: done.error }).toEqual({ status: "succeeded", error: null });
    expect(await db.generationRow.count({ where: { jobId: job.id } })).toBe(prompts.length);
    for (const r of before) expect(teacher.requestsFor(prompts[r.promptIndex]?.prompt as string)).toBe(1);
    await producer.close();
    connection.disconnect();
  }, 300_000);
});
