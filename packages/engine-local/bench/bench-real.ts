/**
 * `npm run bench:real -w packages/engine-local`: a LoRA training step on a real-size checkpoint
 * (random weights written with the real config.json, every layer; default SmolLM2-135M), as
 * runTraining runs it: frozen base packed in wasm memory, LoRA r16 α32 on q/k/v/o, AdamW,
 * clip 1.0. Prints step time, tokens/s and memory, then one JSON line.
 *   BENCH_MODEL=SmolLM2-135M|Qwen2.5-0.5B|Qwen3-0.6B  BENCH_BATCH=2  BENCH_SEQ=128
 *   BENCH_STEPS=5  BENCH_THREADS=1|2 (default: both)  BENCH_KERNEL=auto|native|wasm
 * A benchmark, not a test: it asserts nothing.
 */
import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModelDir } from "../src/io/hf-model-dir.ts";
import { activeMatmulKernel, setMatmulKernel } from "../src/kernels/matmul.ts";
import { packWeights } from "../src/kernels/matmul-wasm.ts";
import { setMatmulThreads } from "../src/kernels/parallel.ts";
import { Rng } from "../src/kernels/rng.ts";
import { getSharedMemory, runInArena } from "../src/kernels/wasm-memory.ts";
import { backwardTrain, forwardTrain } from "../src/model/llama-forward.ts";
import { listBaseParams, listLoraParams, packableWeights } from "../src/model/llama-model.ts";
import { attachLora } from "../src/model/lora.ts";
import { crossEntropy } from "../src/model/ops/cross-entropy.ts";
import { zeroGrad } from "../src/model/param.ts";
import { REAL_CONFIGS, type RealModelName, writeRealCheckpoint } from "../src/real-checkpoints.ts";
import { clipGradNorm, createAdamWState, stepAdamW } from "../src/train/adamw.ts";

const name = (process.env.BENCH_MODEL ?? "SmolLM2-135M") as RealModelName;
if (!(name in REAL_CONFIGS))
  throw new Error(`BENCH_MODEL must be one of ${Object.keys(REAL_CONFIGS).join(", ")}`);
const batch = Number(process.env.BENCH_BATCH ?? 2);
const seq = Number(process.env.BENCH_SEQ ?? 128);
const steps = Number(process.env.BENCH_STEPS ?? 5);
const threadCounts = process.env.BENCH_THREADS ? [Number(process.env.BENCH_THREADS)] : [1, 2];
const mib = (b: number) => Math.round(b / 2 ** 20);
setMatmulKernel(process.env.BENCH_KERNEL ?? "auto");

const dir = join(tmpdir(), `engine-bench-${name}`);
if (!existsSync(join(dir, "model.safetensors"))) {
  console.log(`writing a random-weight ${name} checkpoint (real config, all layers) to ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  writeRealCheckpoint(dir, name, { seed: 1 });
}
const t0 = performance.now();
const model = loadModelDir(dir);
const loadMs = performance.now() - t0;
const c = model.config;
const baseParams = listBaseParams(model).reduce((s, p) => s + p.data.length, 0);
attachLora(
  model,
  { r: 16, alpha: 32, dropout: 0, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"], useRslora: false },
  0,
);
const params = listLoraParams(model);
const loraParams = params.reduce((s, p) => s + p.data.length, 0);
const rng = Rng.fromSeed(1);
for (const p of params)
  if (p.name.includes("lora_B")) for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal() * 1e-3;
const opt = createAdamWState(params);
const rows = batch * seq;
const ids = Int32Array.from({ length: rows }, () => rng.int(Math.min(c.vocabSize, 32000)));
const targets = Int32Array.from({ length: rows }, () => rng.int(Math.min(c.vocabSize, 32000)));
console.log(
  `${name}: ${c.numLayers} layers, d ${c.hiddenSize}, ff ${c.intermediateSize}, heads ${c.numHeads}/${c.numKvHeads}×${c.headDim}, vocab ${c.vocabSize}; ${(baseParams / 1e6).toFixed(1)}M base + ${(loraParams / 1e6).toFixed(2)}M LoRA params; loaded in ${(loadMs / 1000).toFixed(1)} s`,
);
console.log(
  `LoRA r16 α32 on q/k/v/o, batch ${batch} × ${seq} tokens, AdamW, clip 1.0; kernel ${activeMatmulKernel()}`,
);

const unpack = packWeights(packableWeights(model, true), true);
const results: Record<string, { step_ms: number; tokens_per_second: number }> = {};
let peakRss = 0;
for (const threads of threadCounts) {
  setMatmulThreads(threads);
  const times: number[] = [];
  for (let i = 0; i < steps + 1; i++) {
    const s0 = performance.now();
    for (const p of params) zeroGrad(p);
    runInArena(() => {
      const tape = forwardTrain(model, ids, batch, seq, null);
      const ce = crossEntropy(tape.logits, targets, rows, c.vocabSize, 1 / rows, true);
      if (ce.dlogits) backwardTrain(model, tape, ce.dlogits);
    });
    clipGradNorm(params, 1);
    stepAdamW(params, opt, { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    if (i > 0) times.push(performance.now() - s0); // the first step warms up
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)] as number;
  results[`threads_${threads}`] = {
    step_ms: Math.round(ms),
    tokens_per_second: Math.round((rows / ms) * 1000),
  };
  console.log(
    `  ${threads} thread(s): median step ${(ms / 1000).toFixed(2)} s (${times.map((t) => (t / 1000).toFixed(2)).join(", ")}), ${Math.round((rows / ms) * 1000)} tokens/s`,
  );
}
unpack();
setMatmulThreads(1);
const mem = process.memoryUsage();
const wasmBytes = getSharedMemory()?.buffer.byteLength ?? 0;
console.log(
  `memory: peak RSS ${mib(peakRss)} MiB (JS heap ${mib(mem.heapUsed)} MiB, array buffers ${mib(mem.arrayBuffers)} MiB, wasm memory ${mib(wasmBytes)} MiB)`,
);
console.log(
  JSON.stringify({
    model: name,
    kernel: activeMatmulKernel(),
    batch,
    seq,
    lora: { r: 16, alpha: 32, targets: ["q_proj", "k_proj", "v_proj", "o_proj"] },
    ...results,
    peak_rss_mib: mib(peakRss),
    wasm_mib: mib(wasmBytes),
  }),
);
