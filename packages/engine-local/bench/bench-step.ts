/**
 * `tsx bench/bench-step.ts [reference|wide|demo] [kernel] [threads...]`: the median LoRA step of
 * one bench:engine shape on one kernel path at each thread count, side by side in one process
 * (for profiling with `node --cpu-prof` and for quick before/after comparisons). Prints one line
 * per (kernel, threads) with the load average. A benchmark: it asserts nothing.
 */
import { loadavg } from "node:os";
import { activeMatmulKernel, setMatmulKernel } from "../src/kernels/matmul.ts";
import { packWeights } from "../src/kernels/matmul-wasm.ts";
import { setMatmulThreads } from "../src/kernels/parallel.ts";
import { runInArena } from "../src/kernels/wasm-memory.ts";
import { backwardTrain, forwardTrain } from "../src/model/llama-forward.ts";
import { packableWeights } from "../src/model/llama-model.ts";
import { crossEntropy } from "../src/model/ops/cross-entropy.ts";
import { zeroGrad } from "../src/model/param.ts";
import { makeTinyConfig } from "../src/model/test-helpers.ts";
import { clipGradNorm, stepAdamW } from "../src/train/adamw.ts";
import { setupLoraStep } from "./lora-step-setup.ts";

const SHAPES = {
  reference: { vocab: 512, hidden: 128, layers: 4, heads: 4, intermediate: 512, batch: 8, seq: 64 },
  wide: { vocab: 512, hidden: 256, layers: 4, heads: 4, intermediate: 512, batch: 8, seq: 64 },
  // the demo's student (packages/demo): d 64 × 3 layers
  demo: { vocab: 512, hidden: 64, layers: 3, heads: 4, intermediate: 256, batch: 8, seq: 64 },
};
const name = (process.argv[2] ?? "reference") as keyof typeof SHAPES;
const kernel = process.argv[3] ?? "auto";
const threadCounts = process.argv.slice(4).map(Number);
const s = { ...SHAPES[name], r: 8, alpha: 16 };
const steps = Number(process.env.BENCH_STEPS ?? 30);
setMatmulKernel(kernel);
const config = makeTinyConfig({
  vocabSize: s.vocab,
  hiddenSize: s.hidden,
  intermediateSize: s.intermediate,
  numLayers: s.layers,
  numHeads: s.heads,
  numKvHeads: s.heads,
  headDim: s.hidden / s.heads,
  maxPositions: s.seq + 1,
});
const { model, params, opt, rows, ids, targets } = setupLoraStep(config, s);
const unpack = packWeights(packableWeights(model, true), true);
for (const threads of threadCounts.length ? threadCounts : [1, 2]) {
  setMatmulThreads(threads);
  const times: number[] = [];
  for (let i = 0; i < 3 + steps; i++) {
    const t0 = performance.now();
    for (const p of params) zeroGrad(p);
    runInArena(() => {
      const tape = forwardTrain(model, ids, s.batch, s.seq, null);
      const ce = crossEntropy(tape.logits, targets, rows, s.vocab, 1 / rows, true);
      if (ce.dlogits) backwardTrain(model, tape, ce.dlogits);
    });
    clipGradNorm(params, 1);
    stepAdamW(params, opt, { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    if (i >= 3) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(
    `${name} ${activeMatmulKernel()} ${threads}t: median ${times[times.length >> 1]?.toFixed(1)} ms, min ${times[0]?.toFixed(1)} ms (load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")})`,
  );
}
unpack();
