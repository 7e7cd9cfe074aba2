import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatasetVersion, ensureDataset } from "@distillery/catalog";
import type { Db, Prisma } from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { createFsBlobStore } from "@distillery/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZGenerationConfig } from "../generation/generation-config.ts";
import {
  claimGenerationJob,
  createGenerationJob,
  requestGenerationAction,
  retryFailedGenerationRows,
} from "../store/generation-jobs.ts";
import { createTeacher } from "../store/teachers.ts";
import { type FakeTeacher, startFakeTeacher } from "../testing/fake-teacher-server.ts";
import { executeGenerationJob, type GenerationDeps } from "./execute-generation-job.ts";

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
let server: FakeTeacher;
const key = randomBytes(32);
const store = createFsBlobStore(mkdtempSync(join(tmpdir(), "gen-exec-")));

beforeAll(async () => {
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker("wkr_x"));
  server = await startFakeTeacher({ apiKey: "sk-good", delayMs: 20 });
});
afterAll(async () => {
  await server?.close();
  await drop?.();
});

const deps = (): GenerationDeps => ({
  db,
  store,
  log: { info: () => {}, warn: () => {} },
  workerId: "wkr_x",
  secretKey: key,
  heartbeatMs: 50,
  shutdownSignal: new AbortController().signal,
  enqueue: async () => {},
});

async function newJob(input: {
  teacherKey: string;
  name: string;
  config: Record<string, unknown>;
  prompts?: unknown;
}) {
  const t = await createTeacher(db, key, {
    workspaceId,
    name: input.name,
    api: "openai",
    baseUrl: server.baseUrl,
    model: "fake-r1",
    apiKey: input.teacherKey,
    priceInPerM: 0,
    priceOutPerM: 0,
  });
  const config = ZGenerationConfig.parse(input.config);
  return createGenerationJob(db, {
    workspaceId,
    name: input.name,
    teacherId: t.id,
    config: config as unknown as Prisma.InputJsonValue,
    prompts: (input.prompts ?? null) as Prisma.InputJsonValue,
    total: 10,
  });
}

async function run(jobId: string) {
  const lease = await claimGenerationJob(db, jobId, "wkr_x");
  if (!lease) throw new Error("not claimed");
  return executeGenerationJob(deps(), lease, { generationJobId: jobId, workspaceId });
}

describe("executeGenerationJob", () => {
  it("a wrong key fails the job at once, naming the teacher, with no row", async () => {
    const job = await newJob({
      teacherKey: "sk-bad",
      name: "bad key",
      config: { source: { kind: "prompts" } },
      prompts: [{ prompt: "What is 1 + 2?" }],
    });
    const before = server.requests.length;
    expect(await run(job.id)).toMatchObject({ status: "failed" });
    const row = await db.generationJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.status).toBe("failed");
    expect(row.error).toBe('teacher "bad key" rejected the API key (HTTP 401)');
    expect(await db.generationRow.count({ where: { jobId: job.id } })).toBe(0);
    expect(server.requests.length - before).toBe(1);
  });

  it("generates from a dataset version's columns, verified against the reference", async () => {
    const ds = await ensureDataset(db, { workspaceId, name: "problems" });
    const version = await createDatasetVersion(db, store, {
      workspaceId,
      datasetId: ds.id,
      operation: { kind: "test" },
      write: async (sink) => {
        await sink.write(
          Array.from({ length: 6 }, (_, i) => ({
            messages: [{ role: "user" as const, content: `What is ${i} + 10?` }],
            reasoning: null,
            // a wrong reference on row 5: that row is rejected
            answer: String(i === 5 ? 99 : i + 10),
            think: "missing" as const,
          })),
        );
        return {};
      },
    });
    const job = await newJob({
      teacherKey: "sk-good",
      name: "from a version",
      config: {
        source: { kind: "version", versionId: version.id, promptColumn: "prompt", referenceColumn: "answer" },
        outputDatasetName: "traces",
      },
    });
    const result = (await run(job.id)) as { status: string; versionId: string };
    expect(result.status).toBe("succeeded");
    const out = await db.datasetVersion.findUniqueOrThrow({ where: { id: result.versionId } });
    expect(out).toMatchObject({ rowCount: 5, parentId: version.id });
    expect(out.operation).toMatchObject({
      kind: "generate",
      parentVersionId: version.id,
      sampling: { temperature: 0.6 },
    });
    const rejected = await db.generationRow.findFirstOrThrow({ where: { jobId: job.id, promptIndex: 5 } });
    expect(rejected.isVerified).toBe(false);
    expect((rejected.verification as { reasons: string[] }).reasons).toEqual([
      "answer 15 does not match the reference",
    ]);
  });

  it("pauses at a request, resumes without asking again, and finishes", async () => {
    const prompts = Array.from({ length: 30 }, (_, i) => ({
      prompt: `What is ${i} + 1000?`,
      reference: String(i + 1000),
    }));
    const job = await newJob({
      teacherKey: "sk-good",
      name: "pause me",
      config: { source: { kind: "prompts" }, concurrency: 2 },
      prompts,
    });
    const running = run(job.id);
    await expect
      .poll(() => db.generationRow.count({ where: { jobId: job.id } }), { timeout: 30_000, interval: 20 })
      .toBeGreaterThan(3);
    await requestGenerationAction(db, workspaceId, job.id, "pause");
    expect(await running).toEqual({ status: "paused" });
    const stored = await db.generationRow.findMany({
      where: { jobId: job.id },
      select: { promptIndex: true },
    });
    expect(stored.length).toBeLessThan(30);
    expect((await requestGenerationAction(db, workspaceId, job.id, "resume"))?.shouldEnqueue).toBe(true);
    expect(await run(job.id)).toMatchObject({ status: "succeeded" });
    expect(await db.generationRow.count({ where: { jobId: job.id } })).toBe(30);
    for (const r of stored) expect(server.requestsFor(prompts[r.promptIndex]?.prompt as string)).toBe(1);
  });

  it("retry failed rows asks again for those rows only, and the new result has them", async () => {
    const prompts = Array.from({ length: 6 }, (_, i) => ({
      prompt: `What is ${i} + 2000?`,
      reference: String(i + 2000),
    }));
    // prompt 4 fails both tries (500, then 500): a failed row
    server.addFaults([{ kind: "500", match: "What is 4 + 2000?", times: 2 }]);
    const job = await newJob({
      teacherKey: "sk-good",
      name: "retry me",
      config: { source: { kind: "prompts" }, concurrency: 3, maxTries: 2 },
      prompts,
    });
    const first = await run(job.id);
    expect(first).toMatchObject({ status: "succeeded" });
    const failed = await db.generationRow.findFirstOrThrow({ where: { jobId: job.id, status: "failed" } });
    expect(failed.promptIndex).toBe(4);
    expect(failed.error).toMatch(/teacher "retry me" failed \(HTTP 500\)/);
    const firstVersion = (await db.generationJob.findUniqueOrThrow({ where: { id: job.id } }))
      .resultVersionId;
    const asked = prompts.map((p) => server.requestsFor(p.prompt));
    expect(asked).toEqual([1, 1, 1, 1, 2, 1]);

    // nothing to retry while it runs or once every row is in; a running job is refused
    expect(await retryFailedGenerationRows(db, workspaceId, job.id)).toEqual({ kind: "queued", retried: 1 });
    expect(await retryFailedGenerationRows(db, workspaceId, job.id)).toMatchObject({
      kind: "refused",
      reason: "the job is queued",
    });
    expect(await run(job.id)).toMatchObject({ status: "succeeded" });
    expect(prompts.map((p) => server.requestsFor(p.prompt))).toEqual([1, 1, 1, 1, 3, 1]);
    const rows = await db.generationRow.findMany({
      where: { jobId: job.id },
      orderBy: { promptIndex: "asc" },
    });
    expect(rows.map((r) => [r.promptIndex, r.status])).toEqual(prompts.map((_, i) => [i, "ok"]));
    const after = await db.generationJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(after.resultVersionId).not.toBe(firstVersion);
    const version = await db.datasetVersion.findUniqueOrThrow({ where: { id: after.resultVersionId ?? "" } });
    expect(version.rowCount).toBe(6);
    expect(await retryFailedGenerationRows(db, workspaceId, job.id)).toEqual({
      kind: "refused",
      status: "succeeded",
      reason: "no failed row to retry",
    });
    expect(await retryFailedGenerationRows(db, workspaceId, "gen_nope")).toEqual({ kind: "missing" });
  });

  it("keep only verified: the result holds the verified rows only; off, every answered row", async () => {
    const prompts = [
      { prompt: "What is 1 + 3000?", reference: "3001" },
      { prompt: "What is 2 + 3000?", reference: "999" },
      { prompt: "What is 3 + 3000?", reference: "3003" },
    ];
    const counts: Record<string, number> = {};
    for (const keepOnlyVerified of [true, false]) {
      const job = await newJob({
        teacherKey: "sk-good",
        name: `keep ${keepOnlyVerified}`,
        config: { source: { kind: "prompts" }, keepOnlyVerified },
        prompts,
      });
      const out = await run(job.id);
      expect(out).toMatchObject({ status: "succeeded" });
      const version = await db.datasetVersion.findUniqueOrThrow({
        where: { id: (out as { versionId: string }).versionId },
      });
      counts[String(keepOnlyVerified)] = version.rowCount;
    }
    expect(counts).toEqual({ true: 2, false: 3 });
  });
});
