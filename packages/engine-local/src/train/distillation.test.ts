import { ZEngineEvent } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { createTinyModel } from "../create-tiny-model.ts";
import { collectEvents, createFixtureModel, makeJob, makeTempDir } from "../test-fixtures.ts";
import { runTraining } from "./run-training.ts";

const training = (steps: number, seed = 3) => ({
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
  seed,
  maxSeqLength: 64,
});

/** a teacher that has learnt the fixture task (full fine-tune), from the same tokenizer */
async function trainTeacher(base: string): Promise<string> {
  const job = makeJob(base, { lora: { method: "full" }, training: training(200) });
  await runTraining(job, { emit: () => {} });
  return `${job.paths.outDir}/model`;
}

function series(events: ReturnType<typeof collectEvents>["events"], key: string): number[] {
  return events.flatMap((e) =>
    e.type === "metric" && e.values[key] !== undefined ? [e.values[key] as number] : [],
  );
}

describe("distillation in the CPU engine", async () => {
  const base = createFixtureModel();
  const teacher = await trainTeacher(base);

  it("logit KD: the student moves toward the teacher's distribution and reports KD, CE and agreement", async () => {
    const job = makeJob(base, {
      lora: { method: "full" },
      training: training(40),
      distillation: { mode: "logit", teacher: { modelId: "teacher" }, temperature: 2 },
    });
    job.paths.teacherModel = teacher;
    const { events, emit } = collectEvents();
    await runTraining(job, { emit });
    for (const e of events) expect(ZEngineEvent.safeParse(e).success).toBe(true);
    expect(
      events.some(
        (e) => e.type === "log" && /logit distillation from .* beta 0, temperature 2/.test(e.message),
      ),
    ).toBe(true);
    const kd = series(events, "kd_loss");
    const agree = series(events, "top1_agreement");
    const ce = series(events, "ce_loss");
    expect(kd).toHaveLength(40);
    expect(kd.at(-1)).toBeLessThan((kd[0] as number) / 3);
    expect(agree.at(-1)).toBeGreaterThan(agree[0] as number);
    expect(agree.at(-1)).toBeGreaterThan((agree[0] as number) + 0.2);
    // learning the teacher's distribution also lowers the loss on the data it never saw directly
    expect(ce.at(-1)).toBeLessThan((ce[0] as number) / 2);
    // alpha 0: the reported loss is the divergence alone
    const loss = series(events, "loss");
    expect(loss[5]).toBeCloseTo(kd[5] as number, 5);
  });

  it("alpha mixes the data's cross-entropy in: loss = α·CE + (1 − α)·KD", async () => {
    const job = makeJob(base, {
      lora: { method: "lora", r: 4, alpha: 8, dropout: 0 },
      training: training(3),
      distillation: { mode: "logit", teacher: { modelId: "teacher" }, alpha: 0.3, beta: 0.5, topK: 5 },
    });
    job.paths.teacherModel = teacher;
    const { events, emit } = collectEvents();
    await runTraining(job, { emit });
    const [loss, ce, kd] = [series(events, "loss"), series(events, "ce_loss"), series(events, "kd_loss")];
    for (let i = 0; i < 3; i++)
      expect(loss[i]).toBeCloseTo(0.3 * (ce[i] as number) + 0.7 * (kd[i] as number), 5);
  });

  it("on-policy: the student's own samples, reproducible under a seed, with their length and the teacher's log-prob", async () => {
    const run = async (seed: number) => {
      const job = makeJob(base, {
        lora: { method: "full" },
        training: training(6, seed),
        distillation: { mode: "on-policy", teacher: { modelId: "teacher" }, maxNewTokens: 12 },
      });
      job.paths.teacherModel = teacher;
      const { events, emit } = collectEvents();
      await runTraining(job, { emit });
      return events;
    };
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    const lengths = series(a, "sampled_length");
    expect(lengths).toHaveLength(6);
    for (const l of lengths) expect(l).toBeGreaterThan(0);
    expect(series(a, "teacher_logprob").every((v) => v < 0)).toBe(true);
    expect(series(b, "kd_loss")).toEqual(series(a, "kd_loss"));
    expect(series(b, "sampled_length")).toEqual(lengths);
    expect(series(c, "kd_loss")).not.toEqual(series(a, "kd_loss"));
  });

  it("refuses a teacher with another tokenizer, naming both and the first differing token", async () => {
    const other = makeTempDir("other-teacher");
    createTinyModel(other, {
      corpus: ["completely different text for another vocabulary 12345"],
      vocabSize: 300,
      hiddenSize: 32,
      numLayers: 1,
      numHeads: 4,
      numKvHeads: 2,
      maxPositions: 128,
      tieWordEmbeddings: true,
      seed: 2,
    });
    const job = makeJob(base, {
      lora: { method: "full" },
      training: training(2),
      distillation: { mode: "logit", teacher: { modelId: "other" } },
    });
    job.paths.teacherModel = other;
    const { events, emit } = collectEvents();
    await expect(runTraining(job, { emit })).rejects.toThrow(
      /different tokenizers: id \d+ is .* in the student and .* in the teacher/,
    );
    const error = events.find((e) => e.type === "error");
    expect(error?.type === "error" && error.field).toBe("distillation.teacher.modelId");
    expect(error?.type === "error" && error.message).toContain(other);
  });
});
