import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ZEngineEvent } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { readSafetensors } from "../io/safetensors.ts";
import { Rng } from "../kernels/rng.ts";
import { backwardTrain, forwardTrain } from "../model/llama-forward.ts";
import { allocateModel, initializeModel, listBaseParams } from "../model/llama-model.ts";
import { crossEntropy } from "../model/ops/cross-entropy.ts";
import { type Param, setTrainable } from "../model/param.ts";
import { makeTinyConfig } from "../model/test-helpers.ts";
import { collectEvents, createFixtureModel, makeJob } from "../test-fixtures.ts";
import { createFeatureDistill, featureStepLoss } from "./feature-distillation.ts";
import { runTraining } from "./run-training.ts";

const B = 2;
const T = 5;

describe("feature distillation: whole-model gradient against float64 finite differences", () => {
  it("CE + weight·MSE on hidden states (a layer matched twice, the last layer, a projection 8 → 12)", () => {
    const student = allocateModel(makeTinyConfig(), "f64");
    initializeModel(student, 3, 0.4);
    const teacher = allocateModel(
      makeTinyConfig({ hiddenSize: 12, numLayers: 3, intermediateSize: 16, headDim: 6 }),
      "f64",
    );
    initializeModel(teacher, 4, 0.4);
    const fd = createFeatureDistill(
      {
        layers: [
          { student: 1, teacher: 2 },
          { student: 2, teacher: 3 },
          { student: 1, teacher: 1 },
        ],
        weight: 0.7,
      },
      { student: 8, teacher: 12 },
      5,
      "f64",
    );
    const rng = Rng.fromSeed(7);
    const ids = Int32Array.from({ length: B * T }, () => rng.int(13));
    const targets = Int32Array.from({ length: B * T }, (_, i) => (i % T === 0 ? -1 : rng.int(13)));
    const count = targets.filter((t) => t >= 0).length;
    const params: Param[] = [...listBaseParams(student), ...fd.params];
    for (const p of listBaseParams(student)) setTrainable(p, true);
    const lossOf = () => {
      const st = forwardTrain(student, ids, B, T, null);
      const tt = forwardTrain(teacher, ids, B, T, null);
      const ce = crossEntropy(st.logits, targets, B * T, 13, 0, false).lossSum;
      const saved = fd.params.map((p) => p.grad);
      for (const p of fd.params) p.grad = null;
      const f = featureStepLoss(fd, st, tt, targets, 0).lossSum;
      fd.params.forEach((p, i) => {
        p.grad = saved[i] ?? null;
      });
      return (ce + 0.7 * f) / count;
    };
    const st = forwardTrain(student, ids, B, T, null);
    const tt = forwardTrain(teacher, ids, B, T, null);
    const ce = crossEntropy(st.logits, targets, B * T, 13, 1 / count, true);
    const f = featureStepLoss(fd, st, tt, targets, 1 / count);
    expect(f.lossSum).toBeGreaterThan(0);
    expect([...f.hiddenGrads.keys()].sort()).toEqual([1, 2]);
    backwardTrain(student, st, ce.dlogits as Float64Array, f.hiddenGrads);
    const eps = 1e-6;
    let worst = 0;
    let checked = 0;
    for (const p of params) {
      const step = Math.max(1, Math.floor(p.data.length / 5));
      for (let i = 0; i < p.data.length; i += step) {
        const orig = p.data[i] as number;
        p.data[i] = orig + eps;
        const up = lossOf();
        p.data[i] = orig - eps;
        const down = lossOf();
        p.data[i] = orig;
        const numeric = (up - down) / (2 * eps);
        const analytic = (p.grad as Float64Array)[i] as number;
        const err = Math.abs(analytic - numeric) / Math.max(1e-4, Math.abs(numeric) + Math.abs(analytic));
        if (err > 1e-4) throw new Error(`${p.name}[${i}]: analytic ${analytic} vs numeric ${numeric}`);
        worst = Math.max(worst, err);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(worst).toBeLessThan(1e-4);
  });
});

const training = (steps: number) => ({
  maxSteps: steps,
  perDeviceBatchSize: 8,
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

describe("feature distillation in the CPU engine", async () => {
  const base = createFixtureModel();
  // a wider, deeper teacher of the same tokenizer, with the run's special tokens (a short full
  // fine-tune grows its vocabulary as the student's grows)
  const teacherJob = makeJob(createFixtureModel({ hiddenSize: 48, numLayers: 3 }), {
    lora: { method: "full" },
    training: training(20),
  });
  await runTraining(teacherJob, { emit: () => {} });
  const teacher = `${teacherJob.paths.outDir}/model`;

  it("logit + feature: loss = α·CE + (1 − α)·KD + w·MSE, the MSE falls, the projection is not in the adapter", async () => {
    const job = makeJob(base, {
      lora: { method: "lora", r: 4, alpha: 8, dropout: 0 },
      training: { ...training(12), saveStrategy: "steps", saveSteps: 6 },
      distillation: {
        mode: "logit",
        teacher: { modelId: "teacher" },
        alpha: 0.4,
        feature: {
          layers: [
            { student: 2, teacher: 3 },
            { student: 1, teacher: 1 },
          ],
          weight: 0.5,
        },
      },
    });
    job.paths.teacherModel = teacher;
    const { events, emit } = collectEvents();
    await runTraining(job, { emit });
    for (const e of events) expect(ZEngineEvent.safeParse(e).success).toBe(true);
    expect(
      events.some(
        (e) =>
          e.type === "log" &&
          /feature distillation: hidden states 2→3, 1→1, weight 0.5, learned projection 32→48 \(3168 parameters, dropped at save\)/.test(
            e.message,
          ),
      ),
    ).toBe(true);
    const [loss, ce, kd, feat] = ["loss", "ce_loss", "kd_loss", "feature_loss"].map((k) =>
      series(events, k),
    ) as [number[], number[], number[], number[]];
    expect(feat).toHaveLength(12);
    for (let i = 0; i < 12; i++)
      expect(loss[i]).toBeCloseTo(
        0.4 * (ce[i] as number) + 0.6 * (kd[i] as number) + 0.5 * (feat[i] as number),
        5,
      );
    expect(feat.at(-1)).toBeLessThan((feat[0] as number) * 0.8);
    // the checkpoint holds the projection (resume); the adapter and the merged model do not
    const ckpts = join(job.paths.outDir, "checkpoints");
    const last = readdirSync(ckpts).sort().at(-1) as string;
    const ck = readSafetensors(join(ckpts, last, "trainable.safetensors"));
    expect(ck.has("distillation.feature.0.proj.weight")).toBe(true);
    const adapter = readSafetensors(join(job.paths.outDir, "adapter", "adapter_model.safetensors"));
    expect([...adapter.keys()].some((k) => k.includes("distillation"))).toBe(false);
    const merged = join(job.paths.outDir, "merged", "model.safetensors");
    if (existsSync(merged))
      expect([...readSafetensors(merged).keys()].some((k) => k.includes("distillation"))).toBe(false);
  });

  it("resume restores the projection and its AdamW moments: k steps, stop, resume equals a straight run", async () => {
    const config = {
      lora: { method: "lora", r: 4, alpha: 8, dropout: 0 },
      training: { ...training(6), saveStrategy: "steps", saveSteps: 3 },
      distillation: {
        mode: "feature",
        teacher: { modelId: "teacher" },
        feature: { layers: [{ student: 2, teacher: 3 }], weight: 1 },
      },
    };
    const straight = makeJob(base, config);
    straight.paths.teacherModel = teacher;
    const a = collectEvents();
    await runTraining(straight, { emit: a.emit });
    const resumed = makeJob(base, config, {
      paths: { ...straight.paths, outDir: `${straight.paths.outDir}-resumed` },
    });
    const controller = new AbortController();
    await expect(
      runTraining(resumed, {
        emit: (e) => {
          if (e.type === "checkpoint" && e.step === 3) controller.abort();
        },
        signal: controller.signal,
      }),
    ).rejects.toThrow(/cancelled/);
    const b = collectEvents();
    await runTraining(resumed, { emit: b.emit });
    expect(b.events.some((e) => e.type === "log" && e.message.includes("resumed from"))).toBe(true);
    const tail = series(a.events, "feature_loss").slice(3);
    const again = series(b.events, "feature_loss");
    expect(again).toHaveLength(3);
    again.forEach((v, i) => void expect(v).toBeCloseTo(tail[i] as number, 6));
  });

  it("feature mode alone: loss = CE + w·MSE, no divergence series", async () => {
    const job = makeJob(base, {
      lora: { method: "full" },
      training: training(4),
      distillation: {
        mode: "feature",
        teacher: { modelId: "teacher" },
        feature: { layers: [{ student: 2, teacher: 2 }], weight: 2 },
      },
    });
    job.paths.teacherModel = teacher;
    const { events, emit } = collectEvents();
    await runTraining(job, { emit });
    const [loss, ce, feat] = ["loss", "ce_loss", "feature_loss"].map((k) => series(events, k)) as [
      number[],
      number[],
      number[],
    ];
    for (let i = 0; i < 4; i++) expect(loss[i]).toBeCloseTo((ce[i] as number) + 2 * (feat[i] as number), 5);
    expect(series(events, "kd_loss")).toEqual([]);
    expect(series(events, "top1_agreement")).toEqual([]);
  });

  it("refuses a layer index past a model's depth, naming the field", async () => {
    const job = makeJob(base, {
      lora: { method: "full" },
      training: training(2),
      distillation: {
        mode: "feature",
        teacher: { modelId: "teacher" },
        feature: {
          layers: [
            { student: 1, teacher: 1 },
            { student: 1, teacher: 7 },
          ],
        },
      },
    });
    job.paths.teacherModel = teacher;
    const { events, emit } = collectEvents();
    await expect(runTraining(job, { emit })).rejects.toThrow(
      /teacher layer 7 does not exist: the teacher has 3 layers/,
    );
    const error = events.find((e) => e.type === "error");
    expect(error?.type === "error" && error.field).toBe("distillation.feature.layers.1.teacher");
  });
});
