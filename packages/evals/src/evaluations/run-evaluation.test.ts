import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatasetVersion, ensureDataset, registerModelDir } from "@distillery/catalog";
import { type Db, ensureDefaultWorkspace, newId } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { createTinyModel } from "@distillery/engine-local";
import { createModelPool, type ModelPool, resolveServableFiles } from "@distillery/inference";
import { createFsBlobStore } from "@distillery/storage";
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
  pool = createModelPool({
    budgetBytes: 1 << 30,
    slots: 4,
    threads: 1,
    resolve: (id) => resolveServableFiles(db, store, workspaceId, id, join(dir, "cache")),
  });
}, 120_000);

afterAll(async () => {
  await pool?.close();
  await drop?.();
});

async function createEvaluation(settings: Record<string, number>) {
  return db.evaluation.create({
    data: {
      id: newId("eval"),
      workspaceId,
      name: "tiny on held-out",
      model: "tiny",
      evalSet: { kind: "version", versionId },
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
});
