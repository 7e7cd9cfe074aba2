import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EngineError } from "../engine-error.ts";
import { readSafetensors, writeSafetensors } from "../io/safetensors.ts";
import { collectEvents, createFixtureModel, makeJob } from "../test-fixtures.ts";
import { runTraining } from "./run-training.ts";

async function expectError(job: unknown, code: string, pattern: RegExp, field?: string) {
  const { events, emit } = collectEvents();
  await expect(runTraining(job, { emit })).rejects.toBeInstanceOf(EngineError);
  const last = events[events.length - 1];
  expect(last?.type).toBe("error");
  if (last?.type !== "error") return;
  expect(last.code).toBe(code);
  expect(last.message).toMatch(pattern);
  if (field) expect(last.field).toBe(field);
}

const quick = {
  maxSteps: 2,
  perDeviceBatchSize: 2,
  gradientAccumulationSteps: 1,
  evalStrategy: "no",
  saveStrategy: "no",
};

describe("bad input stops with an error that says what and where", () => {
  it("unknown LoRA target module", async () => {
    const job = makeJob(createFixtureModel(), {
      lora: { targetModules: ["q_proj", "qkv_proj"] },
      training: quick,
    });
    await expectError(job, "config_invalid", /qkv_proj/, "lora.targetModules");
  });

  it("QLoRA: the CPU engine trains an unquantized base", async () => {
    // refused by the run config's engine rules (core's engineConfigIssues) when the job is parsed
    const job = makeJob(createFixtureModel(), { lora: { quantization: "nf4" }, training: quick });
    await expectError(
      job,
      "config_invalid",
      /lora\.quantization: .*QLoRA needs the hf engine/,
      "lora.quantization",
    );
  });

  it("a Hub push: the CPU engine has no Hub client", async () => {
    const job = makeJob(createFixtureModel(), { export: { hubRepo: "my-org/tiny" }, training: quick });
    await expectError(job, "config_invalid", /export\.hubRepo: .*cannot push to the Hub/, "export.hubRepo");
  });

  it("run config that fails the schema", async () => {
    const job = makeJob(createFixtureModel(), { training: { ...quick, learningRate: -1 } });
    await expectError(job, "config_invalid", /learning rate must be positive/, "training.learningRate");
  });

  it("malformed config.json", async () => {
    const base = createFixtureModel();
    writeFileSync(join(base, "config.json"), '{"model_type": "llama", "hidden_size": "big"}');
    await expectError(
      makeJob(base, { training: quick }),
      "model_invalid",
      /config.json: .*(vocab_size|hidden_size)/,
    );
  });

  it("safetensors with a wrong name, shape or dtype", async () => {
    const base = createFixtureModel();
    const path = join(base, "model.safetensors");
    const original = readFileSync(path);
    const tensors = readSafetensors(path);
    const renamed = [...tensors].map(
      ([k, v]) => [k.replace("layers.1.mlp.up_proj", "layers.1.mlp.upper"), v] as [string, typeof v],
    );
    writeSafetensors(path, renamed);
    await expectError(makeJob(base, { training: quick }), "model_invalid", /up_proj.weight is missing/);
    const reshaped = [...tensors].map(
      ([k, v]) =>
        [k, k === "model.norm.weight" ? { shape: [2, v.shape[0]! / 2], data: v.data } : v] as [
          string,
          typeof v,
        ],
    );
    writeSafetensors(path, reshaped);
    await expectError(
      makeJob(base, { training: quick }),
      "model_invalid",
      /model.norm.weight has shape \[2,16\]/,
    );
    const json = original.toString("latin1").replace(`"F32"`, `"I32"`);
    writeFileSync(path, Buffer.from(json, "latin1"));
    await expectError(makeJob(base, { training: quick }), "model_invalid", /unsupported dtype I32/);
  });

  it("tokenizer.json that does not parse", async () => {
    const base = createFixtureModel();
    writeFileSync(join(base, "tokenizer.json"), "{oops");
    await expectError(
      makeJob(base, { training: quick }),
      "tokenizer_invalid",
      /tokenizer.json is not valid JSON/,
    );
  });

  it("training data that is not JSONL of {prompt, completion}", async () => {
    const job = makeJob(createFixtureModel(), { training: quick });
    writeFileSync(job.paths.trainData, '{"prompt": "a", "completion": "b"}\n{"text": 1}\n');
    await expectError(job, "data_invalid", /line 2/);
  });

  it("a NaN loss", async () => {
    const base = createFixtureModel();
    const path = join(base, "model.safetensors");
    const tensors = readSafetensors(path);
    tensors.get("model.norm.weight")!.data[0] = Number.NaN;
    writeSafetensors(path, tensors);
    await expectError(
      makeJob(base, { training: quick }),
      "nan_loss",
      /loss is NaN at step 1/,
      "training.learningRate",
    );
  });
});
