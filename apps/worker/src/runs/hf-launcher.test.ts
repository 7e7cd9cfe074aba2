import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createDatasetVersion,
  createTeacherLogitsRequest,
  ensureDataset,
  registerModelDir,
} from "@distillery/catalog";
import { type CanonicalExample, type EngineJob, ZRunConfig } from "@distillery/core";
import type { Db } from "@distillery/db";
import { createTestDatabaseWithWorker } from "@distillery/db/testing";
import { createTinyModel } from "@distillery/engine-local";
import { createFsBlobStore } from "@distillery/storage";
import { createTeacher } from "@distillery/teacher/store";
import { PYTHON_SOURCE_DIR } from "@distillery/trainer-hf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processTeacherLogits } from "../teacher-logits/process-teacher-logits.ts";
import { createHfLauncher } from "./hf-launcher.ts";

/**
 * A GPU (hf) logit run naming a stored teacher-logits artifact: the worker materialises the
 * artifact into the run's job files, and the GPU trainer's own reader and launch checks
 * (packages/trainer-hf distillery_trainer.teacher_logits, under /usr/bin/python3: no torch
 * needed) accept them — the rendered training file is the one the artifact was computed on.
 */
const PYTHON = "/usr/bin/python3";
const pythonOk = spawnSync(PYTHON, ["-c", "import numpy"]).status === 0;

let db: Db;
let drop: () => Promise<void>;
let workspaceId: string;
const root = mkdtempSync(join(tmpdir(), "hf-launcher-"));
const store = createFsBlobStore(join(root, "blobs"));
const example = (a: number, b: number): CanonicalExample => ({
  messages: [{ role: "user", content: `What is ${a} + ${b}?` }],
  reasoning: `${a} + ${b} = ${a + b}`,
  answer: String(a + b),
  think: "ok",
});
let teacherId = "";
let studentId = "";
let versionId = "";
let artifactId = "";

beforeAll(async () => {
  ({ db, drop, workspaceId } = await createTestDatabaseWithWorker("w1"));
  const shape = {
    corpus: Array.from({ length: 40 }, (_, i) => `What is ${i} + ${i + 2}? ${i} + ${i + 2} = ${2 * i + 2}`),
    vocabSize: 300,
    numHeads: 2,
    maxPositions: 128,
    extraSpecialTokens: ["<think>", "</think>"],
  };
  createTinyModel(join(root, "teacher"), { ...shape, hiddenSize: 48, numLayers: 2, seed: 7 });
  createTinyModel(join(root, "student"), { ...shape, hiddenSize: 32, numLayers: 1, seed: 1 });
  teacherId = (
    await registerModelDir(db, store, { workspaceId, name: "tiny-teacher", dir: join(root, "teacher") })
  ).id;
  studentId = (
    await registerModelDir(db, store, { workspaceId, name: "tiny-student", dir: join(root, "student") })
  ).id;
  const ds = await ensureDataset(db, { workspaceId, name: "sums" });
  versionId = (
    await createDatasetVersion(db, store, {
      workspaceId,
      datasetId: ds.id,
      operation: { kind: "test" },
      write: async (sink) => {
        await sink.write(Array.from({ length: 10 }, (_, i) => example(i, i + 2)));
        return {};
      },
    })
  ).id;
  const row = await createTeacherLogitsRequest(db, {
    workspaceId,
    versionId,
    teacherModelId: teacherId,
    teacherName: "tiny-teacher",
    k: 8,
    maxSeqLength: 96,
    template: "phi3",
  });
  artifactId = row.id;
  const deps = {
    db,
    store,
    workerId: "w1",
    cacheDir: join(root, "cache"),
    workDir: join(root, "work"),
    heartbeatMs: 50,
  };
  await db.teacherLogits.update({ where: { id: row.id }, data: { status: "queued" } });
  expect(await processTeacherLogits(deps, { artifactId: row.id, workspaceId, phase: "compute" })).toBe(
    "ready",
  );
}, 180_000);
afterAll(async () => {
  await drop();
});

const config = (overrides: { maxSeqLength?: number; topK?: number } = {}) =>
  ZRunConfig.parse({
    engine: "hf",
    model: { id: studentId },
    data: { datasetVersionId: versionId, template: "phi3", evalFraction: 0.2 },
    lora: { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj"] },
    training: { maxSteps: 3, perDeviceBatchSize: 4, maxSeqLength: overrides.maxSeqLength ?? 96 },
    distillation: {
      mode: "logit",
      teacher: { modelId: teacherId },
      teacherLogits: { artifactId },
      ...(overrides.topK ? { topK: overrides.topK } : {}),
    },
  });

const secretKey = Buffer.alloc(32, 7);

async function prepare(name: string, runConfig: ReturnType<typeof config>) {
  const launcher = createHfLauncher({
    store,
    cacheDir: join(root, "cache"),
    python: PYTHON,
    gpuCount: 1,
    secretKey,
  });
  const runDir = join(root, "runs", name);
  const prepared = await launcher.prepare({
    db,
    run: { id: `run_${name}`, workspaceId, config: runConfig },
    runDir,
    startSeq: 0,
  } as Parameters<typeof launcher.prepare>[0]);
  const jobPath = join(runDir, "job.json");
  return { prepared, jobPath, job: JSON.parse(readFileSync(jobPath, "utf8")) as EngineJob };
}

/** the GPU trainer's job parsing, artifact reader and launch checks on the job's files */
function trainerChecks(jobPath: string): { status: number | null; stdout: string; stderr: string } {
  const py = `
import json, sys
from distillery_trainer.job import read_job
from distillery_trainer.errors import TrainerError
from distillery_trainer.teacher_logits import check_for_run, load_teacher_logits, vocab_of_tokenizer_json
job = read_job(sys.argv[1])
t = job.training
try:
    tl = load_teacher_logits(job.paths.teacher_logits)
    with open(job.paths.base_model + "/tokenizer.json") as f:
        student = vocab_of_tokenizer_json(json.load(f))
    check_for_run(tl, student_tokens=student, student_name=job.config["model"]["id"], data_path=job.paths.train_data,
                  max_seq_length=t["maxSeqLength"], completion_only=t["completionOnlyLoss"], top_k=job.config["distillation"].get("topK"))
    print(json.dumps({"ok": True, "rows": tl.rows, "k": tl.k, "positions": int(tl.manifest["positions"])}))
except TrainerError as e:
    print(json.dumps({"ok": False, **e.to_event_body()}))
`;
  return spawnSync(PYTHON, ["-c", py, jobPath], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: PYTHON_SOURCE_DIR },
  });
}

describe.skipIf(!pythonOk)("hf launcher: stored teacher logits", () => {
  it("materialises the artifact into the job's files, and the GPU trainer's checks accept them", async () => {
    const { prepared, job, jobPath } = await prepare("stored", config());
    expect(job.paths.teacherLogits).toBeDefined();
    expect(job.paths.teacherModel).toBeUndefined(); // the teacher is not run
    const dir = job.paths.teacherLogits as string;
    expect(readdirSync(dir).sort()).toEqual([
      "manifest.json",
      "teacher_logits.safetensors",
      "tokenizer.json",
    ]);
    const train = prepared.steps.find((s) => s.name === "train");
    expect(train?.command.args).toContain(jobPath);
    const res = trainerChecks(jobPath);
    expect(res.stderr).toBe("");
    expect(JSON.parse(res.stdout)).toEqual({ ok: true, rows: 10, k: 8, positions: expect.any(Number) });
  });

  it("the trainer refuses what this run cannot use, naming the field (max length past the artifact's, top-k above k)", async () => {
    for (const [name, overrides, field] of [
      ["long", { maxSeqLength: 128 }, "training.maxSeqLength"],
      ["topk", { topK: 9 }, "distillation.topK"],
    ] as const) {
      const { jobPath } = await prepare(name, config(overrides));
      const out = JSON.parse(trainerChecks(jobPath).stdout);
      expect(out).toMatchObject({ ok: false, code: "config_invalid", field });
    }
    expect(existsSync(join(root, "runs", "long", "job.json"))).toBe(true);
  });
});

describe("hf launcher: endpoint teacher", () => {
  it("names the endpoint in the job and hands its key to the trainer in the environment only", async () => {
    const key = "sk-hf-launcher-secret-0123";
    const teacher = await createTeacher(db, secretKey, {
      workspaceId,
      name: "vLLM teacher",
      api: "openai",
      baseUrl: "http://127.0.0.1:9/v1",
      model: "qwen-7b",
      apiKey: key,
      priceInPerM: 0,
      priceOutPerM: 0,
    });
    const runConfig = ZRunConfig.parse({
      engine: "hf",
      model: { id: studentId },
      data: { datasetVersionId: versionId, template: "phi3" },
      training: { maxSteps: 3, perDeviceBatchSize: 2, maxSeqLength: 96 },
      distillation: { mode: "logit", teacherEndpoint: { teacherId: teacher.id }, topK: 8 },
    });
    const { prepared, job, jobPath } = await prepare("endpoint", runConfig);
    expect(job.paths.teacherEndpoint).toMatchObject({
      name: "vLLM teacher",
      baseUrl: "http://127.0.0.1:9/v1",
      model: "qwen-7b",
    });
    expect(job.paths.teacherModel).toBeUndefined();
    const train = prepared.steps.find((s) => s.name === "train");
    expect(train?.command.env?.DISTILLERY_TEACHER_API_KEY).toBe(key);
    expect(train?.command.env?.PYTHONPATH).toContain(PYTHON_SOURCE_DIR);
    expect(JSON.stringify(train?.command.args)).not.toContain(key);
    expect(readFileSync(jobPath, "utf8")).not.toContain(key);
  });
});
