import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createKvCache, forwardIncremental } from "../generate/kv-cache-forward.ts";
import { loadModelDir, saveModelDir } from "../io/hf-model-dir.ts";
import { forwardTrain } from "../model/llama-forward.ts";
import { allocateModel, initializeModel, type LlamaModel } from "../model/llama-model.ts";
import { makeTinyConfig } from "../model/test-helpers.ts";
import { createFixtureModel, makeTempDir } from "../test-fixtures.ts";
import { exportOnnx, writeOnnxFile } from "./export-onnx.ts";
import { createOrtSession, defaultPositionIds } from "./ort-session.ts";

function worst(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs((a[i] as number) - (b[i] as number)));
  return w;
}

/** The engine's logits for one sequence alone, [T, V]. */
function engineLogits(model: LlamaModel, ids: number[]): Float32Array {
  return Float32Array.from(forwardTrain(model, Int32Array.from(ids), 1, ids.length, null).logits);
}

function qwen3Fixture(): string {
  // q_norm / k_norm, head_dim 12 apart from hidden/heads (32/4), GQA, tied
  const config = makeTinyConfig({
    modelType: "qwen3",
    qkNorm: true,
    vocabSize: 97,
    hiddenSize: 32,
    intermediateSize: 48,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 12,
    tieWordEmbeddings: true,
    ropeTheta: 1000000,
  });
  const model = allocateModel(config);
  initializeModel(model, 9, 0.2);
  for (const l of model.layers)
    for (const p of [l.qNorm!, l.kNorm!])
      for (let i = 0; i < p.data.length; i++) p.data[i] = 1 + 0.1 * Math.sin(i);
  const dir = makeTempDir("qwen3");
  saveModelDir(model, dir);
  return dir;
}

const FIXTURES: [string, () => string][] = [
  ["llama, tied, GQA", () => createFixtureModel({ tie: true, numKvHeads: 2 })],
  ["llama, untied, MHA", () => createFixtureModel({ tie: false, numKvHeads: 4 })],
  [
    "qwen2 biases",
    () => {
      const model = allocateModel(
        makeTinyConfig({
          modelType: "qwen2",
          qkvBias: true,
          vocabSize: 50,
          hiddenSize: 16,
          numHeads: 4,
          numKvHeads: 2,
        }),
      );
      initializeModel(model, 4, 0.3);
      for (const l of model.layers)
        for (const n of ["q_proj", "k_proj", "v_proj"] as const) l.linears[n].bias!.data.fill(0.05);
      const dir = makeTempDir("qwen2");
      saveModelDir(model, dir);
      return dir;
    },
  ],
  ["qwen3 q/k norms, head_dim 12", qwen3Fixture],
];

describe("ONNX export (optimum / transformers.js decoder layout) in onnxruntime-node", () => {
  for (const [label, make] of FIXTURES) {
    it(`${label}: a left-padded batch gives each row the logits it has alone`, async () => {
      const dir = make();
      const file = join(makeTempDir("onnx"), "model.onnx");
      await exportOnnx(dir, file);
      const model = loadModelDir(dir);
      const lm = await createOrtSession(file);
      expect([lm.numLayers, lm.numKvHeads, lm.headDim, lm.vocabSize]).toEqual([
        model.config.numLayers,
        model.config.numKvHeads,
        model.config.headDim,
        model.config.vocabSize,
      ]);
      const V = model.config.vocabSize;
      const rows = [7, 4, 1].map((n, r) => Array.from({ length: n }, (_, i) => (r * 13 + i * 7 + 3) % V));
      const T = 7;
      const inputIds = rows.map((ids) => [...new Array(T - ids.length).fill(0), ...ids]);
      const attentionMask = rows.map((ids) => [...new Array(T - ids.length).fill(0), ...ids.map(() => 1)]);
      const out = await lm.forward({ inputIds, attentionMask });
      expect(out.present.length).toBe(T);
      expect(out.present.keys[0]?.dims).toEqual([3, model.config.numKvHeads, T, model.config.headDim]);
      rows.forEach((ids, r) => {
        const alone = engineLogits(model, ids);
        const pad = T - ids.length;
        for (let t = 0; t < ids.length; t++) {
          const got = out.logitsAt(r, pad + t);
          expect(worst(got, alone.subarray(t * V, (t + 1) * V)), `row ${r} position ${t}`).toBeLessThan(1e-4);
        }
        // padding positions stay finite (a row of all-masked scores softmaxes to uniform, not NaN)
        for (let t = 0; t < pad; t++) expect(out.logitsAt(r, t).every(Number.isFinite)).toBe(true);
      });
      await lm.release();
    });

    it(`${label}: step-by-step decoding with the cache matches the engine's KV-cache decoding`, async () => {
      const dir = make();
      const file = join(makeTempDir("onnx"), "model.onnx");
      await exportOnnx(dir, file);
      const model = loadModelDir(dir);
      const lm = await createOrtSession(file);
      const V = model.config.vocabSize;
      // two prompts of different lengths, left-padded, then greedy steps continued on both
      const prompts = [
        [3, 9, 27, 14, 5],
        [8, 2, 11],
      ].map((p) => p.map((x) => x % V));
      const width = 5;
      let mask = prompts.map((p) => [...new Array(width - p.length).fill(0), ...p.map(() => 1)]);
      let out = await lm.forward({
        inputIds: prompts.map((p) => [...new Array(width - p.length).fill(0), ...p]),
        attentionMask: mask,
      });
      const caches = prompts.map(() => createKvCache(model, 64));
      let engineLast = prompts.map((p, r) => forwardIncremental(model, caches[r]!, p));
      for (let step = 0; step < 6; step++) {
        const next: number[] = [];
        for (let r = 0; r < prompts.length; r++) {
          const ortLast = out.logitsAt(r, out.sequence - 1);
          expect(worst(ortLast, engineLast[r]!), `row ${r} step ${step}`).toBeLessThan(1e-4);
          let best = 0;
          for (let v = 1; v < V; v++)
            if ((engineLast[r]![v] as number) > (engineLast[r]![best] as number)) best = v;
          next.push(best);
        }
        mask = mask.map((m) => [...m, 1]);
        out = await lm.forward({ inputIds: next.map((t) => [t]), attentionMask: mask, past: out.present });
        engineLast = next.map((t, r) => forwardIncremental(model, caches[r]!, [t]));
      }
      expect(out.present.length).toBe(width + 6);
      await lm.release();
    });
  }

  it("position ids default to transformers' cumsum(mask) − 1, 1 at padding", () => {
    expect(
      defaultPositionIds(
        [
          [0, 0, 1, 1, 1],
          [1, 1, 1, 1, 1],
        ],
        5,
      ),
    ).toEqual([
      [1, 1, 0, 1, 2],
      [0, 1, 2, 3, 4],
    ]);
    expect(defaultPositionIds([[0, 1, 1, 1]], 1)).toEqual([[2]]);
  });

  it("large models keep their weights in model.onnx_data beside model.onnx, and run", async () => {
    const dir = createFixtureModel({ tie: true, numKvHeads: 2 });
    const model = loadModelDir(dir);
    const out = join(makeTempDir("onnx-ext"), "model.onnx");
    // the layout a model over ONNX_INLINE_LIMIT gets, forced on a small one
    const { bytes } = writeOnnxFile(model, out, { externalData: true });
    expect(existsSync(`${out}_data`)).toBe(true);
    expect(bytes).toBeGreaterThan(model.config.vocabSize * model.config.hiddenSize * 4);
    const lm = await createOrtSession(out);
    const ids = [5, 6, 7, 8];
    const res = await lm.forward({ inputIds: [ids] });
    expect(worst(res.logits, engineLogits(model, ids))).toBeLessThan(1e-4);
    await lm.release();
  });
});
