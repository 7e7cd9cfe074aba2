import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatasetVersion, ensureDataset, registerModelDir } from "@distillery/catalog";
import { createRun, type Db, ensureDefaultWorkspace, newId } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { createTinyModel } from "@distillery/engine-local";
import { createModelPool, type ModelPool, resolveServableFiles } from "@distillery/inference";
import { createFsBlobStore } from "@distillery/storage";
import { createTeacher } from "@distillery/teacher/store";
import { startFakeTeacher } from "@distillery/teacher/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEvaluation } from "./run-evaluation.ts";

/** Evaluations against real Postgres, blob storage and a real model process. */
const dir = mkdtempSync(join(tmpdir(), "run-evaluation-"));
const store = createFsBlobStore(join(dir, "blobs"));
let db: Db;
let drop: () => Promise<void>;
let pool: ModelPool;
let workspaceId = "";
let versionId = "";
const secretKey = randomBytes(32);
let teacher: Awaited<ReturnType<typeof startFakeTeacher>>;

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase(testAdminDatabaseUrl()));
  ({ workspaceId } = await ensureDefaultWorkspace(db));
  const modelDir = join(dir, "tiny");
  createTinyModel(modelDir, {
    corpus: Array.from({ length: 40 }, (_, i) => `What is ${i} + 2? \\boxed{${i + 2}}`),
    vocabSize: 280,
    hiddenSize: 32,
    intermediateSize: 64,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    maxPositions: 128,
    template: "phi3",
  });
  await registerModelDir(db, store, { workspaceId, name: "tiny", dir: modelDir });
  const ds = await ensureDataset(db, { workspaceId, name: "held-out", description: "" });
  const version = await createDatasetVersion(db, store, {
    workspaceId,
    datasetId: ds.id,
    operation: { kind: "test" },
    schema: {},
    write: async (sink) => {
      await sink.write(
        Array.from({ length: 12 }, (_, i) => ({
          messages: [{ role: "user" as const, content: `What is ${i} + 2?` }],
          reasoning: null,
          answer: `\\boxed{${i + 2}}`,
          reference: String(i + 2),
          think: "ok" as const,
        })),
      );
      return {};
    },
  });
  versionId = version.id;
  teacher = await startFakeTeacher({ apiKey: "sk-eval-test", reasoning: "reasoning_content" });
  pool = createModelPool({
    budgetBytes: 1 << 30,
    slots: 4,
    threads: 1,
    resolve: (id) => resolveServableFiles(db, store, workspaceId, id, join(dir, "cache")),
  });
}, 120_000);

afterAll(async () => {
  await teacher?.close();
  await pool?.close();
  await drop?.();
});

async function createEvaluation(
  settings: Record<string, number>,
  model = "tiny",
  evalSet: object = { kind: "version", versionId },
) {
  return db.evaluation.create({
    data: {
      id: newId("eval"),
      workspaceId,
      name: `${model} on held-out`,
      model,
      evalSet,
      settings,
    },
  });
}

const run = (evaluationId: string) =>
  runEvaluation({
    db,
    store,
    pool,
    evaluationId,
    workerId: "w1",
    cacheDir: join(dir, "cache"),
    concurrency: 4,
    secretKey,
    teacherRetry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
  });

describe("evaluations", () => {
  it("answers every example k times, stores each, and writes metrics with intervals", async () => {
    const ev = await createEvaluation({ k: 3, temperature: 0.6, maxTokens: 12, seed: 1 });
    expect(await run(ev.id)).toBe("succeeded");
    const row = await db.evaluation.findUniqueOrThrow({ where: { id: ev.id } });
    expect(row.status).toBe("succeeded");
    expect([row.total, row.done]).toEqual([12, 12]);
    const m = row.metrics as Record<string, unknown>;
    expect(m.n).toBe(12);
    expect(m.k).toBe(3);
    for (const key of [
      "accuracy",
      "pass_at_1",
      "cons_at_k",
      "pass_at_k",
      "format_compliance",
      "truncation_rate",
    ])
      expect(m[key]).toBeGreaterThanOrEqual(0);
    expect(m.tokens_per_second).toBeGreaterThan(0);
    expect(m.accuracy_ci).toMatchObject({ low: expect.any(Number), high: expect.any(Number) });
    const results = await db.evaluationResult.findMany({
      where: { evaluationId: ev.id },
      orderBy: { index: "asc" },
    });
    expect(results.map((r) => r.index)).toEqual([...Array(12).keys()]);
    expect(results.every((r) => (r.outputs as string[]).length === 3)).toBe(true);
    expect(results[0]?.prompt).toBe("What is 0 + 2?");
  }, 120_000);

  it("a resumed evaluation answers only the examples it had not stored", async () => {
    const ev = await createEvaluation({ k: 1, maxTokens: 8 });
    expect(await run(ev.id)).toBe("succeeded");
    const before = await db.evaluationResult.findMany({
      where: { evaluationId: ev.id },
      orderBy: { index: "asc" },
    });
    // as if the worker had died after 9 examples
    await db.evaluationResult.deleteMany({ where: { evaluationId: ev.id, index: { gte: 9 } } });
    await db.evaluation.update({ where: { id: ev.id }, data: { status: "running", metrics: undefined } });
    expect(await run(ev.id)).toBe("succeeded");
    const after = await db.evaluationResult.findMany({
      where: { evaluationId: ev.id },
      orderBy: { index: "asc" },
    });
    expect(after.map((r) => r.index)).toEqual([...Array(12).keys()]);
    // the first nine rows are the very rows stored first, not answered again
    expect(after.slice(0, 9).map((r) => r.id)).toEqual(before.slice(0, 9).map((r) => r.id));
    // greedy: the re-answered examples are the same answers
    expect(after.slice(9).map((r) => r.outputs)).toEqual(before.slice(9).map((r) => r.outputs));
    expect((await db.evaluation.findUniqueOrThrow({ where: { id: ev.id } })).attempt).toBe(2);
  }, 120_000);

  it("a cancelled evaluation stops and says so", async () => {
    const ev = await createEvaluation({ k: 1, maxTokens: 8 });
    await db.evaluation.update({ where: { id: ev.id }, data: { cancelRequestedAt: new Date() } });
    await run(ev.id);
    const row = await db.evaluation.findUniqueOrThrow({ where: { id: ev.id } });
    expect(row.status).toBe("cancelled");
    expect(await db.evaluationResult.count({ where: { evaluationId: ev.id } })).toBe(0);
  });

  it("an eval set that does not exist fails the evaluation naming the field", async () => {
    const ev = await db.evaluation.create({
      data: {
        id: newId("eval"),
        workspaceId,
        name: "x",
        model: "tiny",
        evalSet: { kind: "version", versionId: "nope" },
        settings: {},
      },
    });
    expect(await run(ev.id)).toBe("failed");
    expect((await db.evaluation.findUniqueOrThrow({ where: { id: ev.id } })).error).toMatch(
      /evalSet.versionId/,
    );
  });

  it("evaluates a run's held-out set (the run's evaluation version, capped at its maxExamples)", async () => {
    const r = await createRun(db, {
      workspaceId,
      name: "distilled",
      engine: "local",
      config: { evaluation: { datasetVersionId: versionId, maxExamples: 5 } },
    });
    const ev = await createEvaluation({ k: 1, maxTokens: 6 }, "tiny", { kind: "run-heldout", runId: r.id });
    expect(await run(ev.id)).toBe("succeeded");
    const row = await db.evaluation.findUniqueOrThrow({ where: { id: ev.id } });
    expect([row.total, row.done]).toEqual([5, 5]);
  });

  it("evaluates a teacher endpoint: k requests per example, reasoning inline, scored like a model", async () => {
    const t = await createTeacher(db, secretKey, {
      workspaceId,
      name: "fake r1",
      api: "openai",
      baseUrl: teacher.baseUrl,
      model: "fake-r1",
      apiKey: "sk-eval-test",
      priceInPerM: 0,
      priceOutPerM: 0,
    });
    // one transient failure on the first problem: retried, not scored as wrong
    teacher.addFaults([{ kind: "500", match: "What is 0 + 2?" }]);
    const before = teacher.requests.length;
    const ev = await createEvaluation({ k: 2, temperature: 0.6, maxTokens: 200 }, `teacher:${t.id}`);
    expect(await run(ev.id)).toBe("succeeded");
    // 12 examples × k 2, plus the retried one
    expect(teacher.requests.length - before).toBe(25);
    const row = await db.evaluation.findUniqueOrThrow({ where: { id: ev.id } });
    const m = row.metrics as Record<string, number>;
    expect([m.n, m.k, m.accuracy, m.pass_at_1, m.cons_at_k, m.format_compliance]).toEqual([
      12, 2, 1, 1, 1, 1,
    ]);
    expect(m.mean_reasoning_tokens).toBeGreaterThan(0);
    const first = await db.evaluationResult.findFirstOrThrow({ where: { evaluationId: ev.id, index: 0 } });
    expect((first.outputs as string[])[0]).toMatch(
      /^<think>\nWe add 0 and 2\.[\s\S]*<\/think>\n\nThe sum is \\boxed\{2\}\.$/,
    );
    expect(first.isCorrect).toBe(true);
  });

  it("a teacher that refuses the key fails the evaluation naming the teacher; one that is gone too", async () => {
    const wrongKey = await createTeacher(db, secretKey, {
      workspaceId,
      name: "wrong key",
      api: "openai",
      baseUrl: teacher.baseUrl,
      model: "fake-r1",
      apiKey: "sk-nope",
      priceInPerM: 0,
      priceOutPerM: 0,
    });
    const ev = await createEvaluation({ k: 1, maxTokens: 50 }, `teacher:${wrongKey.id}`);
    expect(await run(ev.id)).toBe("failed");
    expect((await db.evaluation.findUniqueOrThrow({ where: { id: ev.id } })).error).toMatch(
      /teacher "wrong key" rejected the API key/,
    );
    const gone = await createEvaluation({ k: 1 }, "teacher:tch_missing");
    expect(await run(gone.id)).toBe("failed");
    expect((await db.evaluation.findUniqueOrThrow({ where: { id: gone.id } })).error).toMatch(
      /model: teacher tch_missing does not exist/,
    );
  });
});
