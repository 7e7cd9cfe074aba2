import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { collectEvents, createFixtureModel, makeJob } from "../test-fixtures.ts";
import { runTraining } from "./run-training.ts";

const training = {
  maxSteps: 6,
  perDeviceBatchSize: 3,
  gradientAccumulationSteps: 2,
  learningRate: 5e-3,
  scheduler: "cosine",
  warmupRatio: 0.2,
  maxGradNorm: 0.5,
  weightDecay: 0.01,
  loggingSteps: 1,
  evalStrategy: "no",
  saveStrategy: "steps",
  saveSteps: 3,
  seed: 9,
};
const lora = {
  method: "lora",
  r: 4,
  alpha: 8,
  dropout: 0.2,
  targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj"],
};

describe("checkpoints", () => {
  it("resume equals a straight run: k steps, stop, resume, N−k steps", async () => {
    const base = createFixtureModel();
    const straight = makeJob(base, { lora, training });
    const a = collectEvents();
    await runTraining(straight, { emit: a.emit });

    const resumed = makeJob(
      base,
      { lora, training },
      { paths: { ...straight.paths, outDir: `${straight.paths.outDir}-resumed` } },
    );
    const controller = new AbortController();
    const first = collectEvents();
    await expect(
      runTraining(resumed, {
        emit: (e) => {
          first.emit(e);
          if (e.type === "checkpoint" && e.step === 3) controller.abort();
        },
        signal: controller.signal,
      }),
    ).rejects.toThrow(/cancelled/);
    const startSeq = first.events.length;
    const second = collectEvents();
    await runTraining({ ...resumed, startSeq }, { emit: second.emit });
    expect(second.events[0]?.seq).toBe(startSeq);
    expect(second.events.some((e) => e.type === "log" && e.message.includes("resumed from"))).toBe(true);

    const lossesOf = (events: typeof a.events) =>
      events.flatMap((e) =>
        e.type === "metric" && e.values.loss !== undefined
          ? [[e.step, e.values.loss, e.values.learning_rate]]
          : [],
      );
    expect(lossesOf([...first.events, ...second.events])).toEqual(lossesOf(a.events));
    const weights = (dir: string) =>
      readFileSync(join(dir, "checkpoints", "checkpoint-6", "trainable.safetensors"));
    expect(weights(resumed.paths.outDir).equals(weights(straight.paths.outDir))).toBe(true);
    const optimizer = (dir: string) =>
      readFileSync(join(dir, "checkpoints", "checkpoint-6", "optimizer.safetensors"));
    expect(optimizer(resumed.paths.outDir).equals(optimizer(straight.paths.outDir))).toBe(true);
  });
});
