import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ZEngineEvent } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { loadModelDir } from "../io/hf-model-dir.ts";
import { Rng } from "../kernels/rng.ts";
import { forwardTrain } from "../model/llama-forward.ts";
import { distillLoss } from "../model/ops/distill-loss.ts";
import {
  collectEvents,
  createFixtureModel,
  makeJob,
  makeTaskExamples,
  makeTempDir,
} from "../test-fixtures.ts";
import { loadTokenizer } from "../tokenizer/engine-tokenizer.ts";
import { runTraining } from "./run-training.ts";
import {
  computeTeacherLogits,
  estimateTeacherLogits,
  fromF16,
  loadTeacherLogits,
  storedTeacherTopK,
  toF16,
  topKRow,
} from "./teacher-logits.ts";
import { collateBatch, readExamplesJsonl, tokenizeExamples } from "./training-data.ts";
import { topKOf } from "./training-step.ts";

const training = (steps: number) => ({
  maxSteps: steps,
  perDeviceBatchSize: 4,
  gradientAccumulationSteps: 1,
  learningRate: 1e-2,
  scheduler: "constant",
  warmupRatio: 0,
  maxGradNorm: 1,
  loggingSteps: 1,
  evalStrategy: "no",
  saveStrategy: "no",
  seed: 3,
  maxSeqLength: 64,
});

function series(events: ReturnType<typeof collectEvents>["events"], key: string): number[] {
  return events.flatMap((e) =>
    e.type === "metric" && e.values[key] !== undefined ? [e.values[key] as number] : [],
  );
}

describe("fp16 and top-k helpers", () => {
  it("fp16 round trip: exact for representable values, within half an ulp otherwise", () => {
    for (const v of [0, -0.5, -1, -2.75, -65504, 1 / 1024, -(2 ** -24)]) expect(fromF16(toF16(v))).toBe(v);
    expect(fromF16(toF16(-1e6))).toBe(Number.NEGATIVE_INFINITY);
    const rng = Rng.fromSeed(1, 0);
    for (let i = 0; i < 1000; i++) {
      const v = -rng.next() * 30;
      expect(Math.abs(fromF16(toF16(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25);
    }
  });

  it("topKRow picks what a full sort picks (ties: the lower id first)", () => {
    const rng = Rng.fromSeed(2, 0);
    const V = 50;
    const rows = 6;
    const logits = Float64Array.from({ length: rows * V }, () => Math.round(rng.next() * 8) / 2);
    const targets = new Int32Array(rows).fill(1);
    const ref = topKOf(logits, rows, V, 7, targets);
    const ids = new Int32Array(rows * 7);
    const lp = new Float64Array(rows * 7);
    for (let r = 0; r < rows; r++) topKRow(logits, r * V, V, 7, ids, lp, r * 7);
    expect(Array.from(ids)).toEqual(Array.from(ref.ids));
    lp.forEach((v, i) => void expect(v).toBeCloseTo(ref.logprobs[i] as number, 12));
  });
});

describe("stored teacher logits", async () => {
  const base = createFixtureModel();
  const teacherJob = makeJob(base, { lora: { method: "full" }, training: training(40) });
  await runTraining(teacherJob, { emit: () => {} });
  const teacher = `${teacherJob.paths.outDir}/model`;
  const data = teacherJob.paths.trainData;
  const k = 5;
  const artifact = join(makeTempDir("tl"), "artifact");

  it("estimates size and time first; the file then has exactly that size, in row order, with its manifest", () => {
    const est = estimateTeacherLogits(teacher, data, { k, maxSeqLength: 64 });
    expect(est.rows).toBe(makeTaskExamples().length);
    expect(est.positions).toBeGreaterThan(est.rows);
    expect(est.seconds).toBeGreaterThan(0);
    const m = computeTeacherLogits(teacher, data, artifact, {
      k,
      maxSeqLength: 64,
      teacherName: "tiny-teacher",
    });
    expect(statSync(join(artifact, "teacher_logits.safetensors")).size).toBe(est.bytes);
    expect(m).toMatchObject({
      teacher: "tiny-teacher",
      k,
      rows: est.rows,
      positions: est.positions,
      bytes: est.bytes,
    });
    const tl = loadTeacherLogits(artifact);
    expect(tl.offsets[tl.manifest.rows]).toBe(est.positions);
    // 6 bytes per kept token (int32 id + fp16 log-prob)
    expect(est.bytes - est.positions * k * 6).toBeLessThan(400 + 8 * est.rows);
  });

  it("the loss from stored logits equals the online top-k loss on the same batch (fp16 rounding aside)", () => {
    const tl = loadTeacherLogits(artifact);
    const tok = loadTokenizer(teacher);
    const examples = tokenizeExamples(readExamplesJsonl(data, "x"), tok, 64);
    const rows = [examples[3], [examples[0], examples[5]], examples[7]].filter(
      (r) => r !== undefined,
    ) as Parameters<typeof collateBatch>[0];
    const b = collateBatch(rows, 0, true);
    const t = loadModelDir(teacher);
    const V = t.config.vocabSize;
    const n = b.batch * b.seq;
    const teacherLogits = forwardTrain(t, b.ids, b.batch, b.seq, null, b.segStart).logits;
    const rng = Rng.fromSeed(9, 0);
    const student = Float64Array.from({ length: n * V }, () => rng.next() * 4 - 2);
    for (const opts of [
      { beta: 0, temperature: 1 },
      { beta: 0.5, temperature: 2 },
    ]) {
      const online = distillLoss(
        student,
        topKOf(teacherLogits, n, V, k, b.targets),
        b.targets,
        n,
        V,
        opts,
        1,
        true,
      );
      const fromStore = distillLoss(
        student,
        storedTeacherTopK(tl, rows, b.seq, b.targets, k),
        b.targets,
        n,
        V,
        opts,
        1,
        true,
      );
      expect(fromStore.count).toBe(online.count);
      expect(fromStore.agreeCount).toBe(online.agreeCount);
      expect(Math.abs(fromStore.lossSum - online.lossSum)).toBeLessThan(2e-3 * Math.abs(online.lossSum));
      let worst = 0;
      fromStore.dlogits?.forEach((g, j) => {
        worst = Math.max(worst, Math.abs(g - (online.dlogits?.[j] as number)));
      });
      expect(worst).toBeLessThan(2e-3);
    }
  });

  it("a logit run reads them instead of running the teacher and trains as the online top-k run does", async () => {
    const run = async (stored: boolean) => {
      const job = makeJob(base, {
        lora: { method: "full" },
        training: training(6),
        distillation: {
          mode: "logit",
          teacher: { modelId: "tiny-teacher" },
          topK: k,
          temperature: 2,
          ...(stored ? { teacherLogits: { artifactId: "a1" } } : {}),
        },
      });
      // the same examples file: the artifact is checked against its content
      job.paths.trainData = data;
      if (stored) job.paths.teacherLogits = artifact;
      else job.paths.teacherModel = teacher;
      const { events, emit } = collectEvents();
      await runTraining(job, { emit });
      for (const e of events) expect(ZEngineEvent.safeParse(e).success).toBe(true);
      return events;
    };
    const online = await run(false);
    const stored = await run(true);
    expect(
      stored.some(
        (e) => e.type === "log" && /from stored teacher logits .* the teacher is not run/.test(e.message),
      ),
    ).toBe(true);
    const a = series(online, "kd_loss");
    const b = series(stored, "kd_loss");
    expect(b).toHaveLength(6);
    b.forEach(
      (v, i) => void expect(Math.abs(v - (a[i] as number))).toBeLessThan(5e-3 * (a[i] as number) + 1e-4),
    );
    expect(series(stored, "teacher_logprob")).toEqual([]);
  });

  it("refuses an artifact of other examples, or a top-k above the stored k, naming the field", async () => {
    const other = join(makeTempDir("data2"), "train.jsonl");
    writeFileSync(
      other,
      makeTaskExamples()
        .slice(1)
        .map((e) => JSON.stringify(e))
        .join("\n"),
    );
    const attempt = async (over: Record<string, unknown>, trainData: string) => {
      const job = makeJob(base, {
        lora: { method: "full" },
        training: training(1),
        distillation: {
          mode: "logit",
          teacher: { modelId: "t" },
          teacherLogits: { artifactId: "a1" },
          ...over,
        },
      });
      job.paths.trainData = trainData;
      job.paths.teacherLogits = artifact;
      const { events, emit } = collectEvents();
      await expect(runTraining(job, { emit })).rejects.toThrow();
      const error = events.find((e) => e.type === "error");
      return error?.type === "error" ? error : null;
    };
    const e1 = await attempt({}, other);
    expect(e1?.message).toMatch(/were computed on other examples/);
    expect(e1?.field).toBe("distillation.teacherLogits.artifactId");
    const e2 = await attempt({ topK: k + 1 }, data);
    expect(e2?.message).toMatch(/top-6 asked, the stored teacher logits keep 5 tokens/);
    expect(e2?.field).toBe("distillation.topK");
  });
});
