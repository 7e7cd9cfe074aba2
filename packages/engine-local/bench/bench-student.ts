/**
 * The `student` shape of `npm run bench:engine`, run in a process of its own so that its peak
 * RSS is the student's alone: the SmolLM2-135M configuration (30 layers, d 576, ff 1536, heads
 * 9/3×64, vocab 49152, tied embeddings; random weights at 0.02), LoRA r16 α32 on q/k/v/o, batch
 * 4 × 512, cross-entropy, AdamW, clip 1.0, as runTraining runs a step (frozen base packed for
 * the WebAssembly path). Then greedy decoding at batch 1 (KV cache, 64 new tokens after a
 * 32-token prompt). Prints figures, then one JSON line:
 *   {kernel, threads, step_ms, tokens_per_second, decode_tokens_per_second, peak_rss_mib, …}
 * Env: BENCH_KERNEL (auto), BENCH_THREADS (2 when the machine has 2 cores), BENCH_STUDENT_STEPS
 * (1 after 1 warm-up), BENCH_STUDENT_BATCH (4), BENCH_STUDENT_SEQ (512), BENCH_STUDENT_LAYERS (30).
 * A benchmark, not a test: it asserts nothing.
 */
import { availableParallelism } from "node:os";
import { generateTokens } from "../src/generate/generate-tokens.ts";
import { activeMatmulKernel, setMatmulKernel } from "../src/kernels/matmul.ts";
import { packWeights } from "../src/kernels/matmul-wasm.ts";
import { setMatmulThreads } from "../src/kernels/parallel.ts";
import { getSharedMemory, runInArena } from "../src/kernels/wasm-memory.ts";
import { backwardTrain, forwardTrain } from "../src/model/llama-forward.ts";
import { packableWeights } from "../src/model/llama-model.ts";
import { crossEntropy } from "../src/model/ops/cross-entropy.ts";
import { zeroGrad } from "../src/model/param.ts";
import { makeTinyConfig } from "../src/model/test-helpers.ts";
import { clipGradNorm, stepAdamW } from "../src/train/adamw.ts";
import { setupLoraStep } from "./lora-step-setup.ts";

const STUDENT = {
  vocab: 49152,
  hidden: 576,
  layers: Number(process.env.BENCH_STUDENT_LAYERS ?? 30),
  heads: 9,
  kv_heads: 3,
  head_dim: 64,
  intermediate: 1536,
  theta: 100000,
  tie: true,
  batch: Number(process.env.BENCH_STUDENT_BATCH ?? 4),
  seq: Number(process.env.BENCH_STUDENT_SEQ ?? 512),
  r: 16,
  alpha: 32,
  warmup: 1,
  steps: Number(process.env.BENCH_STUDENT_STEPS ?? 1),
};

const mib = (b: number) => Math.round(b / 2 ** 20);
let peakRss = 0;
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

function main(): void {
  const s = STUDENT;
  setMatmulKernel(process.env.BENCH_KERNEL ?? "auto");
  const threads = Number(process.env.BENCH_THREADS ?? (availableParallelism() > 1 ? 2 : 1));
  setMatmulThreads(threads);
  const config = makeTinyConfig({
    vocabSize: s.vocab,
    hiddenSize: s.hidden,
    intermediateSize: s.intermediate,
    numLayers: s.layers,
    numHeads: s.heads,
    numKvHeads: s.kv_heads,
    headDim: s.head_dim,
    ropeTheta: s.theta,
    tieWordEmbeddings: s.tie,
    maxPositions: Math.max(s.seq + 1, 256),
  });
  const { model, params, opt, rng, rows, ids, targets } = setupLoraStep(config, s);
  console.log(
    `student: SmolLM2-135M config (${s.layers} layers, d ${s.hidden}, ff ${s.intermediate}, heads ${s.heads}/${s.kv_heads}×${s.head_dim}, vocab ${s.vocab}), LoRA r${s.r} on q/k/v/o, batch ${s.batch}×${s.seq}; kernel ${activeMatmulKernel()}, ${threads} thread(s)`,
  );
  sample();
  const unpack = packWeights(packableWeights(model, true), true);
  const times: number[] = [];
  for (let i = 0; i < s.warmup + s.steps; i++) {
    const t0 = performance.now();
    for (const p of params) zeroGrad(p);
    runInArena(() => {
      const tape = forwardTrain(model, ids, s.batch, s.seq, null);
      sample();
      const ce = crossEntropy(tape.logits, targets, rows, s.vocab, 1 / rows, true);
      sample();
      if (ce.dlogits) backwardTrain(model, tape, ce.dlogits);
      sample();
    });
    clipGradNorm(params, 1);
    stepAdamW(params, opt, { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    sample();
    const ms = performance.now() - t0;
    console.log(`  step ${i + 1}${i < s.warmup ? " (warm-up)" : ""}: ${(ms / 1000).toFixed(2)} s`);
    if (i >= s.warmup) times.push(ms);
  }
  unpack();
  const stepRss = peakRss;
  const mem = process.memoryUsage();
  const wasmBytes = getSharedMemory()?.buffer.byteLength ?? 0;
  times.sort((a, b) => a - b);
  const stepMs = times[Math.floor(times.length / 2)] as number;
  console.log(
    `  median step ${(stepMs / 1000).toFixed(2)} s, ${Math.round((rows * 1000) / stepMs)} tokens/s; peak RSS ${mib(stepRss)} MiB (array buffers ${mib(mem.arrayBuffers)} MiB, wasm memory ${mib(wasmBytes)} MiB)`,
  );

  // decoding at batch 1: a 32-token prompt, 64 greedy tokens, no stop token
  const prompt = Array.from({ length: 32 }, () => rng.int(s.vocab));
  const newTokens = 64;
  generateTokens(model, prompt.slice(0, 8), {
    maxNewTokens: 4,
    temperature: 0,
    topP: 1,
    stopTokenIds: [],
    seed: 0,
  });
  const d0 = performance.now();
  const out = generateTokens(model, prompt, {
    maxNewTokens: newTokens,
    temperature: 0,
    topP: 1,
    stopTokenIds: [],
    seed: 0,
  });
  const decodeMs = performance.now() - d0;
  const decodeTps = (out.length * 1000) / decodeMs;
  console.log(
    `  decode, batch 1: ${out.length} tokens in ${(decodeMs / 1000).toFixed(2)} s, ${decodeTps.toFixed(1)} tokens/s`,
  );
  console.log(
    JSON.stringify({
      kernel: activeMatmulKernel(),
      threads,
      batch: s.batch,
      seq: s.seq,
      layers: s.layers,
      step_ms: Math.round(stepMs),
      tokens_per_second: Math.round((rows * 1000) / stepMs),
      decode_tokens_per_second: Math.round(decodeTps * 10) / 10,
      peak_rss_mib: mib(stepRss),
      wasm_mib: mib(wasmBytes),
    }),
  );
}

main();
