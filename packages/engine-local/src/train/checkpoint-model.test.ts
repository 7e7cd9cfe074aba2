import { join } from "node:path";
import { ZRunConfig } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { generateText } from "../generate-text.ts";
import { collectEvents, createFixtureModel, makeJob, makeTempDir, renderPrompt } from "../test-fixtures.ts";
import { writeCheckpointModel } from "./checkpoint-model.ts";
import { runTraining } from "./run-training.ts";

describe("a checkpoint as a model folder", () => {
  it("the last checkpoint of a LoRA run with added tokens answers as its adapter on the base", async () => {
    const base = createFixtureModel();
    const job = makeJob(base, {
      lora: { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj"] },
      training: {
        maxSteps: 6,
        perDeviceTrainBatchSize: 2,
        learningRate: 0.01,
        saveStrategy: "steps",
        saveSteps: 3,
        loggingSteps: 3,
      },
    });
    const { events, emit } = collectEvents();
    await runTraining(job, { emit });
    const last = events.filter((e) => e.type === "checkpoint").at(-1);
    expect(last?.type === "checkpoint" && last.step).toBe(6);
    const out = join(makeTempDir("ckpt-model"), "checkpoint-6");
    writeCheckpointModel(
      base,
      ZRunConfig.parse(job.config),
      last?.type === "checkpoint" ? last.path : "",
      out,
    );
    const prompt = renderPrompt("cat");
    const fromCheckpoint = generateText(out, prompt, { maxNewTokens: 12 });
    const fromAdapter = generateText(base, prompt, {
      maxNewTokens: 12,
      adapterDir: join(job.paths.outDir, "adapter"),
    });
    expect(fromCheckpoint.tokenIds).toEqual(fromAdapter.tokenIds);
    // written once: a second call returns the same folder
    expect(writeCheckpointModel(base, ZRunConfig.parse(job.config), "/nonexistent", out)).toBe(out);
  });
});
