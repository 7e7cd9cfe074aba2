import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ZEngineEvent } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { generateText } from "../generate-text.ts";
import { loadModelDir, saveModelDir } from "../io/hf-model-dir.ts";
import { readSafetensors } from "../io/safetensors.ts";
import { getSharedMemory } from "../kernels/wasm-memory.ts";
import { resizeVocab } from "../model/resize-vocab.ts";
import { collectEvents, createFixtureModel, makeJob, makeTaskExamples } from "../test-fixtures.ts";
import { loadTokenizer } from "../tokenizer/engine-tokenizer.ts";
import { runTraining } from "./run-training.ts";

describe("runTraining", () => {
  it("trains a tiny model from scratch (full) to near-zero loss and it then answers", async () => {
    const base = createFixtureModel();
    const job = makeJob(
      base,
      {
        lora: { method: "full" },
        training: {
          maxSteps: 200,
          perDeviceBatchSize: 8,
          gradientAccumulationSteps: 1,
          learningRate: 1e-2,
          scheduler: "constant",
          warmupRatio: 0,
          maxGradNorm: 1,
          loggingSteps: 25,
          evalStrategy: "no",
          saveStrategy: "no",
          seed: 3,
          maxSeqLength: 64,
        },
        sampling: { everySteps: 100, maxNewTokens: 12, temperature: 0 },
      },
      { samplePrompts: [{ prompt: "Opposite of red?", rendered: makeTaskExamples()[1]!.prompt }] },
    );
    const { events, emit } = collectEvents();
    await runTraining(job, { emit });
    for (const e of events) expect(ZEngineEvent.safeParse(e).success).toBe(true);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    const losses = events.flatMap((e) =>
      e.type === "metric" && e.values.loss !== undefined ? [e.values.loss] : [],
    );
    expect(losses[0]).toBeGreaterThan(3);
    expect(losses[losses.length - 1]).toBeLessThan(0.05);
    const metric = events.find((e) => e.type === "metric" && e.values.loss !== undefined);
    expect(metric?.type === "metric" && Object.keys(metric.values).sort()).toEqual([
      "epoch",
      "grad_norm",
      "learning_rate",
      "loss",
      "tokens_per_second",
    ]);
    // the sample of the trained model (step 200, loss ≈ 0.001); the step-100 one (loss ≈ 0.1) is
    // still on the edge and differs with the kernel's rounding (native-avx512 said "<think>\nrple")
    const sample = events.filter((e) => e.type === "sample").at(-1);
    expect(sample?.type === "sample" && sample.step).toBe(200);
    expect(sample?.type === "sample" && sample.output).toBe("<think>\nred\n</think>\n\ngreen");
    expect(events.filter((e) => e.type === "artifact").map((e) => e.type === "artifact" && e.kind)).toEqual([
      "model",
      "onnx",
    ]);
    expect(events[events.length - 1]?.type).toBe("done");
    const modelDir = join(job.paths.outDir, "model");
    const out = generateText(modelDir, makeTaskExamples()[4]!.prompt, { maxNewTokens: 12 });
    expect(out.text).toBe("<think>\nup\n</think>\n\ndown");
  });

  it("with packing, learns the same task from fewer, fuller sequences", async () => {
    const base = createFixtureModel();
    const job = makeJob(base, {
      lora: { method: "full" },
      training: {
        maxSteps: 150,
        perDeviceBatchSize: 4,
        gradientAccumulationSteps: 1,
        learningRate: 1e-2,
        scheduler: "constant",
        warmupRatio: 0,
        maxGradNorm: 1,
        loggingSteps: 25,
        evalStrategy: "no",
        saveStrategy: "no",
        seed: 3,
        maxSeqLength: 64,
        packing: true,
        precision: "bf16",
        optimizer: "paged_adamw_8bit",
      },
    });
    const { events, emit } = collectEvents();
    await runTraining(job, { emit });
    // GPU-only options are named, not silently dropped
    const warnings = events.flatMap((e) => (e.type === "log" && e.level === "warn" ? [e.message] : []));
    expect(warnings.map((w) => w.split(" ")[0])).toEqual(["training.precision", "training.optimizer"]);
    const log = events.find((e) => e.type === "log" && e.message.startsWith("packing:"));
    const m = log?.type === "log" ? /packing: (\d+) examples into (\d+) sequences/.exec(log.message) : null;
    expect(Number(m?.[2])).toBeLessThanOrEqual(Number(m?.[1]) / 2);
    const losses = events.flatMap((e) =>
      e.type === "metric" && e.values.loss !== undefined ? [e.values.loss] : [],
    );
    expect(losses[losses.length - 1]).toBeLessThan(0.05);
    // each example still answers alone: nothing leaked between packed neighbours
    const out = generateText(join(job.paths.outDir, "model"), makeTaskExamples()[4]!.prompt, {
      maxNewTokens: 12,
    });
    expect(out.text).toBe("<think>\nup\n</think>\n\ndown");
  });

  it("a long LoRA run keeps the wasm memory flat: every step frees what it allocated", async () => {
    const base = createFixtureModel();
    const run = async (maxSteps: number) => {
      const job = makeJob(base, {
        lora: { method: "lora", r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj"] },
        training: {
          maxSteps,
          perDeviceBatchSize: 8,
          gradientAccumulationSteps: 1,
          learningRate: 1e-3,
          loggingSteps: 50,
          evalStrategy: "no",
          saveStrategy: "no",
          maxSeqLength: 64,
        },
        merge: { mergeAndUnload: false },
      });
      await runTraining(job, { emit: collectEvents().emit });
      return getSharedMemory()?.buffer.byteLength ?? 0;
    };
    const afterShort = await run(10);
    // a leak of one step's temporaries (~1 MB here) would grow the memory by well over 100 MB
    expect(await run(200)).toBeLessThanOrEqual(afterShort + (8 << 20));
  });

  it("LoRA with added special tokens writes a PEFT adapter and a merged model", async () => {
    const base = createFixtureModel({ tie: false });
    const job = makeJob(base, {
      lora: {
        method: "lora",
        r: 4,
        alpha: 8,
        dropout: 0.1,
        targetModules: ["q_proj", "v_proj", "down_proj"],
      },
      training: {
        maxSteps: 4,
        perDeviceBatchSize: 4,
        gradientAccumulationSteps: 2,
        learningRate: 1e-3,
        loggingSteps: 2,
        evalStrategy: "steps",
        evalSteps: 2,
        saveStrategy: "no",
      },
      data: { datasetVersionId: "v1", template: "phi3", evalFraction: 0.25 },
    });
    const { events, emit } = collectEvents();
    await runTraining(job, { emit });
    expect(events.some((e) => e.type === "metric" && e.values.eval_loss !== undefined)).toBe(true);
    const adapter = join(job.paths.outDir, "adapter");
    const cfg = JSON.parse(readFileSync(join(adapter, "adapter_config.json"), "utf8"));
    expect(cfg).toMatchObject({
      peft_type: "LORA",
      r: 4,
      lora_alpha: 8,
      target_modules: ["q_proj", "v_proj", "down_proj"],
      modules_to_save: null,
      trainable_token_indices: { embed_tokens: [300, 301], lm_head: [300, 301] },
    });
    const header = readFileSync(join(adapter, "adapter_model.safetensors"));
    const names = Object.keys(
      JSON.parse(header.subarray(8, 8 + Number(header.readBigUInt64LE(0))).toString()),
    );
    expect(names).toContain("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
    expect(names).toContain("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight");
    expect(names).toContain("base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta");
    expect(names).toContain("base_model.model.lm_head.token_adapter.trainable_tokens_delta");
    expect(existsSync(join(job.paths.outDir, "merged", "model.safetensors"))).toBe(true);
    const tok = JSON.parse(readFileSync(join(adapter, "tokenizer.json"), "utf8"));
    expect(tok.added_tokens.map((t: { content: string }) => t.content)).toContain("<think>");
    expect(events.filter((e) => e.type === "artifact").map((e) => e.type === "artifact" && e.kind)).toEqual([
      "adapter",
      "merged",
      "onnx",
    ]);
  });

  it("trains the rows of added tokens even when vocab_size is padded past the tokenizer", async () => {
    const base = createFixtureModel({ tie: true });
    const tok = loadTokenizer(base);
    const model = loadModelDir(base);
    resizeVocab(model, model.config.vocabSize + 8);
    saveModelDir(model, base, { tokenizer: tok });
    const job = makeJob(base, {
      lora: { method: "lora", r: 2, alpha: 4, dropout: 0, targetModules: ["q_proj"] },
      training: {
        maxSteps: 3,
        perDeviceBatchSize: 8,
        gradientAccumulationSteps: 1,
        learningRate: 1e-2,
        evalStrategy: "no",
        saveStrategy: "no",
      },
      merge: { mergeAndUnload: false },
    });
    await runTraining(job, { emit: collectEvents().emit });
    const adapterDir = join(job.paths.outDir, "adapter");
    const rows = readSafetensors(join(adapterDir, "adapter_model.safetensors")).get(
      "base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta",
    );
    const d = model.config.hiddenSize;
    // "<think>" takes the first id after the tokenizer's own; every row from there on trained
    const first = tok.vocabSize;
    const cfg = JSON.parse(readFileSync(join(adapterDir, "adapter_config.json"), "utf8"));
    expect(cfg.trainable_token_indices.embed_tokens).toEqual(
      Array.from({ length: model.config.vocabSize - first }, (_, i) => first + i),
    );
    expect(rows?.shape).toEqual([model.config.vocabSize - first, d]);
    const rowChanged = (k: number) => {
      for (let j = 0; j < d; j++)
        if (rows?.data[k * d + j] !== model.embed.data[(first + k) * d + j]) return true;
      return false;
    };
    expect(rowChanged(0)).toBe(true);
    expect(rowChanged(1)).toBe(true);
  });
});
