import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createDatasetVersion,
  createTeacherLogitsRequest,
  ensureDataset,
  registerModelDir,
} from "@distillery/catalog";
import type { CanonicalExample } from "@distillery/core";
import type { Db } from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { createTinyModel } from "@distillery/engine-local";
import {
  createModelPool,
  handleCompletions,
  handleTokenize,
  type ModelPool,
  UnknownModelError,
} from "@distillery/inference";
import { serveOverHttp } from "@distillery/inference/testing";
import { createFsBlobStore } from "@distillery/storage";
import { createTeacher } from "@distillery/teacher/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processTeacherLogits } from "./process-teacher-logits.ts";

/**
 * A TeacherLogits row whose teacher is an endpoint (teacherEndpointId), through the worker's
 * processor with real Postgres and real HTTP: the studio's own serving of a tiny model.
 */
let db: Db;
let drop: () => Promise<void>;
let workspaceId = "";
const root = mkdtempSync(join(tmpdir(), "endpoint-logits-"));
const store = createFsBlobStore(join(root, "blobs"));
const secretKey = randomBytes(32);
let pool: ModelPool;
let server: { url: string; close: () => Promise<void> };
let modelId = "";
let versionId = "";
const teacherIds: Record<string, string> = {};

const deps = () => ({
  db,
  store,
  workerId: "w1",
  cacheDir: join(root, "cache"),
  workDir: join(root, "work"),
  heartbeatMs: 50,
  secretKey,
});
const example = (a: number, b: number): CanonicalExample => ({
  messages: [{ role: "user", content: `What is ${a} + ${b}?` }],
  reasoning: `${a} + ${b} = ${a + b}`,
  answer: String(a + b),
  think: "ok",
});

beforeAll(async () => {
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker("w1"));
  const shape = {
    vocabSize: 300,
    numHeads: 2,
    maxPositions: 128,
    extraSpecialTokens: ["<think>", "</think>"],
  };
  const sums = Array.from(
    { length: 50 },
    (_, i) => `What is ${i} + ${i + 1}? ${i} + ${i + 1} = ${2 * i + 1}`,
  );
  const words = Array.from({ length: 50 }, (_, i) => `colour ${i}: red, green, blue, orange ${i * 7}`);
  const dirs: Record<string, string> = { teacher: join(root, "teacher"), stranger: join(root, "stranger") };
  createTinyModel(dirs.teacher as string, { ...shape, corpus: sums, hiddenSize: 32, numLayers: 1, seed: 7 });
  createTinyModel(dirs.stranger as string, {
    ...shape,
    corpus: words,
    hiddenSize: 32,
    numLayers: 1,
    seed: 7,
  });
  // the catalog model of the row supplies the tokenizer and the template (the same files)
  modelId = (
    await registerModelDir(db, store, { workspaceId, name: "tiny-family", dir: dirs.teacher as string })
  ).id;
  const ds = await ensureDataset(db, { workspaceId, name: "sums" });
  versionId = (
    await createDatasetVersion(db, store, {
      workspaceId,
      datasetId: ds.id,
      operation: { kind: "test" },
      write: async (sink) => {
        await sink.write(Array.from({ length: 12 }, (_, i) => example(i, i + 1)));
        return {};
      },
    })
  ).id;
  pool = createModelPool({
    budgetBytes: 1 << 30,
    slots: 2,
    threads: 1,
    resolve: async (id) => {
      const modelDir = dirs[id];
      if (!modelDir) throw new UnknownModelError(id);
      return { modelDir, templateId: "phi3" };
    },
  });
  server = await serveOverHttp({
    "POST /v1/completions": (req) => handleCompletions({ pool }, req),
    "POST /tokenize": (req) => handleTokenize({ pool }, req),
  });
  for (const name of ["teacher", "stranger"]) {
    const t = await createTeacher(db, secretKey, {
      workspaceId,
      name: `served-${name}`,
      api: "openai",
      baseUrl: `${server.url}/v1`,
      model: name,
      apiKey: "sk-worker-secret",
      priceInPerM: 0,
      priceOutPerM: 0,
    });
    teacherIds[name] = t.id;
  }
}, 180_000);

afterAll(async () => {
  await server?.close();
  await pool?.close();
  await drop?.();
});

async function endpointRow(teacher: string) {
  const row = await createTeacherLogitsRequest(db, {
    workspaceId,
    versionId,
    teacherModelId: modelId,
    teacherName: `served-${teacher}`,
    k: 4,
    maxSeqLength: 96,
    template: "phi3",
  });
  await db.teacherLogits.update({
    where: { id: row.id },
    data: { teacherEndpointId: teacherIds[teacher] ?? null },
  });
  return row;
}

describe("teacher logits from a teacher endpoint (worker)", () => {
  it("estimates, computes from the endpoint and registers the artifact", async () => {
    const row = await endpointRow("teacher");
    expect(await processTeacherLogits(deps(), { artifactId: row.id, workspaceId, phase: "estimate" })).toBe(
      "estimated",
    );
    const estimated = await db.teacherLogits.findUniqueOrThrow({ where: { id: row.id } });
    const estimate = estimated.estimate as {
      rows: number;
      bytes: number;
      positions: number;
      seconds: number;
    };
    expect(estimate.rows).toBe(12);
    expect(estimate.seconds).toBeGreaterThan(0);
    await db.teacherLogits.update({ where: { id: row.id }, data: { status: "queued" } });
    expect(await processTeacherLogits(deps(), { artifactId: row.id, workspaceId, phase: "compute" })).toBe(
      "ready",
    );
    const ready = await db.teacherLogits.findUniqueOrThrow({ where: { id: row.id } });
    expect(ready).toMatchObject({ status: "ready", k: 4, rows: 12, positions: estimate.positions });
    expect(Number(ready.bytes)).toBe(estimate.bytes);
    expect(ready.error).toBeNull();
  }, 120_000);

  it("an endpoint of another tokenizer fails the job before asking anything, naming both and the token", async () => {
    const row = await endpointRow("stranger");
    expect(await processTeacherLogits(deps(), { artifactId: row.id, workspaceId, phase: "estimate" })).toBe(
      "failed",
    );
    const failed = await db.teacherLogits.findUniqueOrThrow({ where: { id: row.id } });
    expect(failed.error).toMatch(
      /^the student \(.+\) and the teacher \(endpoint "served-stranger", model stranger\) have different tokenizers: token \d+ of the probe text is id \d+ .* in the student and id \d+ .* in the teacher$/,
    );
    expect(failed.error).not.toContain("sk-worker-secret");
  }, 120_000);
});
