import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateTokens } from "../generate/generate-tokens.ts";
import { mergeAdapter } from "../merge-adapter.ts";
import { allocateModel, initializeModel, listBaseParams } from "../model/llama-model.ts";
import { attachLora } from "../model/lora.ts";
import { makeTinyConfig } from "../model/test-helpers.ts";
import { makeTempDir } from "../test-fixtures.ts";
import { trainBpeTokenizer } from "../tokenizer/bpe-trainer.ts";
import { createTokenizer, saveTokenizer } from "../tokenizer/engine-tokenizer.ts";
import { loadModelDir, saveModelDir } from "./hf-model-dir.ts";
import { saveAdapterDir } from "./peft-adapter.ts";
import { readSafetensors } from "./safetensors.ts";

/** Writes tensors as BF16 or F16, the dtypes Hub checkpoints usually ship in. */
function writeHalfSafetensors(
  path: string,
  tensors: Map<string, { shape: number[]; data: Float32Array }>,
  dtype: "BF16" | "F16",
): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of tensors) {
    const u16 = new Uint16Array(t.data.length);
    const u32 = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
    for (let i = 0; i < t.data.length; i++) {
      if (dtype === "BF16") u16[i] = (u32[i] as number) >>> 16;
      else {
        // float32 → float16 for values well inside f16 range (the test's weights are ~0.02–1)
        const f = t.data[i] as number;
        const sign = f < 0 ? 0x8000 : 0;
        const a = Math.abs(f);
        if (a < 6.1e-5) u16[i] = sign | Math.round(a / 2 ** -24);
        else {
          const e = Math.floor(Math.log2(a));
          u16[i] = sign | ((e + 15) << 10) | (Math.round((a / 2 ** e - 1) * 1024) & 0x3ff);
        }
      }
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + u16.byteLength] };
    offset += u16.byteLength;
    chunks.push(new Uint8Array(u16.buffer));
  }
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(path, Buffer.concat([len, h, ...chunks]));
}

describe("HF model directories", () => {
  it("a Qwen2-style checkpoint (q/k/v biases) round-trips and generates", () => {
    const config = makeTinyConfig({ modelType: "qwen2", qkvBias: true, numKvHeads: 1, vocabSize: 20 });
    const model = allocateModel(config);
    initializeModel(model, 5, 0.3);
    for (const p of listBaseParams(model)) if (p.name.endsWith(".bias")) p.data.fill(0.1);
    const dir = makeTempDir("qwen");
    saveModelDir(model, dir);
    const back = loadModelDir(dir);
    expect(back.config.modelType).toBe("qwen2");
    expect(back.layers[0]!.linears.q_proj.bias?.data[0]).toBeCloseTo(0.1, 6);
    expect(back.layers[0]!.linears.o_proj.bias).toBeNull();
    const a = generateTokens(model, [1, 2, 3], {
      maxNewTokens: 6,
      temperature: 0,
      topP: 1,
      stopTokenIds: [],
      seed: 0,
    });
    const b = generateTokens(back, [1, 2, 3], {
      maxNewTokens: 6,
      temperature: 0,
      topP: 1,
      stopTokenIds: [],
      seed: 0,
    });
    expect(b).toEqual(a);
    expect(a.length).toBe(6);
  });

  for (const dtype of ["BF16", "F16"] as const) {
    it(`reads ${dtype} weights`, () => {
      const model = allocateModel(makeTinyConfig());
      initializeModel(model, 6, 0.3);
      const dir = makeTempDir("half");
      saveModelDir(model, dir);
      const tensors = readSafetensors(join(dir, "model.safetensors"));
      writeHalfSafetensors(join(dir, "model.safetensors"), tensors, dtype);
      const back = loadModelDir(dir);
      const orig = listBaseParams(model);
      listBaseParams(back).forEach((p, i) => {
        for (let j = 0; j < p.data.length; j += 7) {
          const want = orig[i]!.data[j] as number;
          expect(Math.abs((p.data[j] as number) - want)).toBeLessThanOrEqual(
            Math.abs(want) * (dtype === "BF16" ? 1 / 128 : 1 / 1024) + 1e-7,
          );
        }
      });
    });
  }

  it("config.json keeps every key of the architecture through load, merge and save (Qwen2.5's sliding-window keys)", () => {
    // Qwen2.5-0.5B's config.json, shrunk in size only
    const original = {
      architectures: ["Qwen2ForCausalLM"],
      attention_dropout: 0.0,
      bos_token_id: 151643,
      eos_token_id: 151643,
      hidden_act: "silu",
      hidden_size: 8,
      initializer_range: 0.02,
      intermediate_size: 12,
      max_position_embeddings: 32768,
      max_window_layers: 24,
      model_type: "qwen2",
      num_attention_heads: 2,
      num_hidden_layers: 2,
      num_key_value_heads: 1,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000.0,
      sliding_window: 32768,
      tie_word_embeddings: true,
      torch_dtype: "bfloat16",
      transformers_version: "4.40.1",
      use_cache: true,
      use_mrope: false,
      use_sliding_window: false,
      vocab_size: 300,
    };
    const dir = makeTempDir("qwen-keys");
    const model = allocateModel(
      makeTinyConfig({ modelType: "qwen2", qkvBias: true, vocabSize: 300, tieWordEmbeddings: true }),
    );
    initializeModel(model, 2);
    saveModelDir(model, dir, {
      tokenizer: createTokenizer(
        trainBpeTokenizer(["the quick brown fox"], { vocabSize: 300, specialTokens: ["<|endoftext|>"] }),
      ),
    });
    writeFileSync(join(dir, "config.json"), JSON.stringify(original));
    const loaded = loadModelDir(dir);
    const resaved = makeTempDir("resaved");
    saveModelDir(loaded, resaved);
    expect(JSON.parse(readFileSync(join(resaved, "config.json"), "utf8"))).toEqual({
      ...original,
      torch_dtype: "float32",
    });
    // merge_and_unload of an adapter that grew the vocabulary: only vocab_size and dtype change
    const spec = { r: 2, alpha: 4, dropout: 0, targetModules: ["q_proj"], useRslora: false };
    attachLora(loaded, spec, 1);
    const adapter = makeTempDir("adapter");
    saveAdapterDir(loaded, adapter, { spec, baseModel: "Qwen/Qwen2.5-0.5B", modulesToSave: [] });
    saveTokenizer(
      createTokenizer(
        trainBpeTokenizer(["the quick brown fox"], { vocabSize: 300, specialTokens: ["<|endoftext|>"] }),
      ),
      adapter,
    );
    const merged = makeTempDir("merged");
    mergeAdapter(dir, adapter, merged);
    expect(JSON.parse(readFileSync(join(merged, "config.json"), "utf8"))).toEqual({
      ...original,
      torch_dtype: "float32",
    });
    expect(
      JSON.parse(readFileSync(join(adapter, "adapter_config.json"), "utf8")).base_model_name_or_path,
    ).toBe("Qwen/Qwen2.5-0.5B");
  });

  it("refuses sliding-window attention it does not implement, naming the key", () => {
    const dir = makeTempDir("sliding");
    saveModelDir(allocateModel(makeTinyConfig({ modelType: "qwen2", qkvBias: true })), dir);
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({ ...cfg, use_sliding_window: true, sliding_window: 4 }),
    );
    expect(() => loadModelDir(dir)).toThrow(/use_sliding_window/);
  });
});
