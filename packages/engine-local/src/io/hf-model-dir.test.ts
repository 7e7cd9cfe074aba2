import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateTokens } from "../generate/generate-tokens.ts";
import { allocateModel, initializeModel, listBaseParams } from "../model/llama-model.ts";
import { makeTinyConfig } from "../model/test-helpers.ts";
import { makeTempDir } from "../test-fixtures.ts";
import { loadModelDir, saveModelDir } from "./hf-model-dir.ts";
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
});
