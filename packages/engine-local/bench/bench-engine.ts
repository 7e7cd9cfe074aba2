/**
 * `npm run bench:engine` (root): the engine's median LoRA training step against PyTorch's (Debian
 * python3-torch, best of 1 and 2 threads) with identical shapes, init scale and optimizer. Prints
 * figures, then one JSON line: {"reference": {engine_ms, torch_ms, ratio}, "wide": {…}, "pytorch":
 * {version, openblas_core, openblas_config} or {available: false, reason}, "kernel": the path
 * engine_ms ran on (native-avx512, native-avx2, native-neon, wasm-relaxed-simd…)}; each shape also
 * carries `by_kernel`: the engine's ms and ratio on every kernel path measured in this run (every
 * native SIMD variant this CPU runs, then wasm; BENCH_KERNEL=native-avx2|wasm|…: one).
 * Then the `student` shape (bench-student.ts, in a process of its own for its peak RSS): the
 * SmolLM2-135M configuration with random weights, LoRA r16 on q/k/v/o, batch 4×512, on the
 * default path and 2 threads, against PyTorch's best of 1 and 2 threads: "student": {engine_ms, torch_ms,
 * ratio, engine_tokens_per_second, torch_tokens_per_second, decode_tokens_per_second (engine,
 * batch 1), peak_rss_mib, torch_peak_rss_mib, kernel, threads}. BENCH_STUDENT=0 skips it;
 * "loadavg" is the load average at the start and at the end.
 * A benchmark, not a test: it asserts nothing.
 */
import { spawnSync } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { activeMatmulKernel, describeMatmulKernel, setMatmulKernel } from "../src/kernels/matmul.ts";
import { packWeights } from "../src/kernels/matmul-wasm.ts";
import { getNativeVariants, SIMD_VARIANTS } from "../src/kernels/native-kernel.ts";
import { getMatmulThreads, setMatmulThreads } from "../src/kernels/parallel.ts";
import { runInArena } from "../src/kernels/wasm-memory.ts";
import { backwardTrain, forwardTrain } from "../src/model/llama-forward.ts";
import { packableWeights } from "../src/model/llama-model.ts";
import { crossEntropy } from "../src/model/ops/cross-entropy.ts";
import { zeroGrad } from "../src/model/param.ts";
import { makeTinyConfig } from "../src/model/test-helpers.ts";
import { clipGradNorm, stepAdamW } from "../src/train/adamw.ts";
import { setupLoraStep } from "./lora-step-setup.ts";

interface Shape {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  batch: number;
  seq: number;
  r: number;
  alpha: number;
  warmup: number;
  steps: number;
}

const REFERENCE: Shape = {
  vocab: 512,
  hidden: 128,
  layers: 4,
  heads: 4,
  intermediate: 512,
  batch: 8,
  seq: 64,
  r: 8,
  alpha: 16,
  warmup: 3,
  steps: Number(process.env.BENCH_STEPS ?? 15),
};
const WIDE: Shape = { ...REFERENCE, hidden: 256 };
const ROUNDS = 2;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function benchEngine(s: Shape): number {
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
  const times: number[] = [];
  // as runTraining does: the frozen base stays in wasm memory for the whole loop
  const unpack = packWeights(packableWeights(model, true), true);
  for (let i = 0; i < s.warmup + s.steps; i++) {
    const t0 = performance.now();
    for (const p of params) zeroGrad(p);
    runInArena(() => {
      const tape = forwardTrain(model, ids, s.batch, s.seq, null);
      const ce = crossEntropy(tape.logits, targets, rows, s.vocab, 1 / rows, true);
      if (ce.dlogits) backwardTrain(model, tape, ce.dlogits);
    });
    clipGradNorm(params, 1);
    stepAdamW(params, opt, { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    if (i >= s.warmup) times.push(performance.now() - t0);
  }
  unpack();
  return median(times);
}

type TorchRun = { ms: number; threads: number; peakRssMib?: number };

function benchTorch(s: object, round: number, threadCounts = [1, 2]): TorchRun | null {
  if (!torchInfo.available) return null;
  const script = fileURLToPath(new URL("../scripts/torch-llama.py", import.meta.url));
  let best: TorchRun | null = null;
  for (const threads of threadCounts) {
    const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: String(threads) };
    // the protocol: OpenBLAS tuning variables unset for this command only
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const res = spawnSync("/usr/bin/python3", [script, "bench", JSON.stringify(s)], {
      env,
      encoding: "utf8",
    });
    if (res.status !== 0) {
      console.log(
        `torch (${threads} thread(s)) unavailable: ${(res.stderr || res.error?.message || "").trim().split("\n").pop()}`,
      );
      continue;
    }
    const out = JSON.parse(res.stdout.trim().split("\n").pop() as string) as {
      median_ms: number;
      peak_rss_mib?: number;
    };
    const ms = out.median_ms;
    console.log(`  round ${round}: torch ${threads} thread(s): ${ms.toFixed(1)} ms/step`);
    if (!best || ms < best.ms) best = { ms, threads, peakRssMib: out.peak_rss_mib };
  }
  return best;
}

/**
 * Which PyTorch the comparison runs, and which OpenBLAS kernel it picked (PyTorch's CPU speed
 * varies ~3x between these machines with it: Debian's OpenBLAS 0.3.21 may not know a new CPU
 * and fall back to a generic kernel). Installs python3-torch as `npm test` does (apt, as root)
 * when it is missing; otherwise says why torch_ms is null and how to get it.
 */
const BLAS_PROBE = `
import ctypes, json, torch
torch.ones(2, 2) @ torch.ones(2, 2)
libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "openblas" in l.lower() and l.split()[-1].startswith("/")})
out = {"version": torch.__version__, "openblas_core": None, "openblas_config": None}
for path in libs:
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        continue
    if getattr(lib, "openblas_get_corename", None) is None:
        continue
    lib.openblas_get_corename.restype = ctypes.c_char_p
    lib.openblas_get_config.restype = ctypes.c_char_p
    out["openblas_core"] = lib.openblas_get_corename().decode()
    out["openblas_config"] = lib.openblas_get_config().decode()
    out["openblas_lib"] = path
    break
print(json.dumps(out))
`;
type TorchInfo =
  | { available: true; version: string; openblas_core: string | null; openblas_config: string | null }
  | { available: false; reason: string };

function probeTorch(): TorchInfo {
  const probe = () => spawnSync("/usr/bin/python3", ["-c", BLAS_PROBE], { encoding: "utf8" });
  let res = probe();
  if (res.status !== 0 && !process.env.BENCH_ENGINE_ONLY) {
    console.log("python3-torch is missing: installing it as npm test does (scripts/setup-test-deps.sh)…");
    const setup = fileURLToPath(new URL("../scripts/setup-test-deps.sh", import.meta.url));
    spawnSync("sh", [setup], { stdio: "inherit" });
    res = probe();
  }
  if (res.status !== 0) {
    const why = (res.stderr || res.error?.message || "").trim().split("\n").pop() ?? "";
    return {
      available: false,
      reason: `/usr/bin/python3 cannot import torch (${why}); install it with \`sudo apt-get install python3-torch libopenblas0-pthread\``,
    };
  }
  return { available: true, ...JSON.parse(res.stdout.trim().split("\n").pop() as string) };
}

const torchInfo: TorchInfo = process.env.BENCH_ENGINE_ONLY
  ? { available: false, reason: "BENCH_ENGINE_ONLY is set" }
  : probeTorch();
console.log(
  torchInfo.available
    ? `PyTorch ${torchInfo.version}, OpenBLAS kernel ${torchInfo.openblas_core ?? "unknown"} (${torchInfo.openblas_config ?? "no OpenBLAS found"})`
    : `PyTorch comparison skipped: ${torchInfo.reason}; torch_ms will be null`,
);

type Timing = { engine_ms: number; torch_ms: number | null; ratio: number | null };
const summary: Record<string, Timing & { by_kernel: Record<string, Timing> }> = {};
const loadStart = loadavg();
console.log(
  `engine (default): ${describeMatmulKernel()}; load average ${loadStart.map((x) => x.toFixed(2)).join(" ")}`,
);
const defaultKernel = activeMatmulKernel();
// every path this machine has (each native SIMD variant, then wasm), the default first;
// BENCH_KERNEL=native|native-avx2|wasm|… measures one
const kernels: string[] = [];
const candidates = process.env.BENCH_KERNEL
  ? [process.env.BENCH_KERNEL]
  : [
      "auto",
      ...getNativeVariants()
        .filter((v) => SIMD_VARIANTS.includes(v))
        .map((v) => `native-${v}`),
      "wasm",
    ];
for (const k of candidates) {
  try {
    setMatmulKernel(k);
  } catch (e) {
    console.log(`  kernel ${k}: ${(e as Error).message}`);
    continue;
  }
  if (!kernels.includes(activeMatmulKernel())) kernels.push(activeMatmulKernel());
}
const kernelChoice = (path: string) => (path.startsWith("native") ? path : "wasm");
const reported = process.env.BENCH_KERNEL ? (kernels[0] ?? defaultKernel) : defaultKernel;
for (const [name, s] of [
  ["reference", REFERENCE],
  ["wide", WIDE],
] as const) {
  const tokens = s.batch * s.seq;
  console.log(
    `${name}: hidden ${s.hidden}, ${s.layers} layers, batch ${s.batch}x${s.seq}, LoRA r${s.r} on q/k/v/o`,
  );
  // Each side reports its best median over 1 and 2 threads and two alternating rounds: the
  // machines are shared, and alternating keeps a burst of someone else's load from landing on
  // one side only.
  const defaultThreads = getMatmulThreads();
  const bestMs: Record<string, number> = {};
  let torch: { ms: number; threads: number } | null = null;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const kernel of kernels) {
      setMatmulKernel(kernelChoice(kernel));
      for (const threads of availableParallelism() > 1 ? [1, 2] : [1]) {
        setMatmulThreads(threads);
        const ms = benchEngine(s);
        console.log(`  round ${round}: engine ${kernel}, ${threads} thread(s): ${ms.toFixed(1)} ms/step`);
        bestMs[kernel] = Math.min(bestMs[kernel] ?? Number.POSITIVE_INFINITY, ms);
      }
    }
    const t = benchTorch(s, round);
    if (t && (!torch || t.ms < torch.ms)) torch = t;
  }
  setMatmulThreads(defaultThreads);
  setMatmulKernel("auto");
  for (const kernel of kernels) {
    const ms = bestMs[kernel] as number;
    console.log(
      `  engine best (${kernel}): ${ms.toFixed(1)} ms/step, ${Math.round((tokens * 1000) / ms)} tokens/s`,
    );
  }
  const engineMs = bestMs[reported] ?? Math.min(...Object.values(bestMs));
  if (torch) {
    const tps = Math.round((tokens * 1000) / torch.ms);
    console.log(`  torch best (${torch.threads} thread(s)): ${torch.ms.toFixed(1)} ms/step, ${tps} tokens/s`);
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  const timing = (ms: number): Timing => ({
    engine_ms: round(ms),
    torch_ms: torch ? round(torch.ms) : null,
    ratio: torch ? round(torch.ms / ms) : null,
  });
  summary[name] = {
    ...timing(engineMs),
    by_kernel: Object.fromEntries(kernels.map((k) => [k, timing(bestMs[k] as number)])),
  };
}

/** the student shape, its engine side in a child process (bench-student.ts) for a clean peak RSS */
const STUDENT = {
  vocab: 49152,
  hidden: 576,
  layers: 30,
  heads: 9,
  kv_heads: 3,
  head_dim: 64,
  intermediate: 1536,
  theta: 100000,
  tie: true,
  batch: 4,
  seq: 512,
  r: 16,
  alpha: 32,
  warmup: 1,
  steps: Number(process.env.BENCH_STUDENT_STEPS ?? 1),
};
let student: Record<string, number | string | null> | null = null;
if (process.env.BENCH_STUDENT !== "0") {
  const threads = availableParallelism() > 1 ? 2 : 1;
  console.log(
    `student: SmolLM2-135M config (random weights), LoRA r${STUDENT.r} on q/k/v/o, batch ${STUDENT.batch}x${STUDENT.seq}, ${threads} thread(s)`,
  );
  const child = spawnSync(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL("./bench-student.ts", import.meta.url))],
    {
      env: {
        ...process.env,
        BENCH_KERNEL: reported.startsWith("native") ? reported : "wasm",
        BENCH_THREADS: String(threads),
        BENCH_STUDENT_STEPS: String(STUDENT.steps),
      },
      encoding: "utf8",
      maxBuffer: 64 << 20,
    },
  );
  const lines = (child.stdout ?? "").trim().split("\n");
  for (const line of lines.slice(1, -1)) console.log(line);
  const engine =
    child.status === 0
      ? (JSON.parse(lines.pop() as string) as {
          kernel: string;
          step_ms: number;
          tokens_per_second: number;
          decode_tokens_per_second: number;
          peak_rss_mib: number;
        })
      : null;
  if (!engine)
    console.log(
      `  engine student run failed: ${(child.stderr || "").trim().split("\n").slice(-3).join(" ")}`,
    );
  // PyTorch's best of 1 and 2 threads, as for the other shapes (its OpenBLAS threads suffer most under load)
  const torch = benchTorch(STUDENT, 1, threads > 1 ? [1, 2] : [1]);
  const tokens = STUDENT.batch * STUDENT.seq;
  const tps = (ms: number) => Math.round((tokens * 1000) / ms);
  if (torch)
    console.log(
      `  torch (${torch.threads} thread(s)): ${(torch.ms / 1000).toFixed(2)} s/step, ${tps(torch.ms)} tokens/s, peak RSS ${torch.peakRssMib ?? "?"} MiB`,
    );
  if (engine)
    console.log(
      `  engine (${engine.kernel}): ${(engine.step_ms / 1000).toFixed(2)} s/step, ${engine.tokens_per_second} tokens/s, peak RSS ${engine.peak_rss_mib} MiB; decode ${engine.decode_tokens_per_second} tokens/s at batch 1`,
    );
  student = {
    engine_ms: engine?.step_ms ?? null,
    torch_ms: torch ? Math.round(torch.ms) : null,
    ratio: engine && torch ? Math.round((torch.ms / engine.step_ms) * 100) / 100 : null,
    engine_tokens_per_second: engine?.tokens_per_second ?? null,
    torch_tokens_per_second: torch ? tps(torch.ms) : null,
    decode_tokens_per_second: engine?.decode_tokens_per_second ?? null,
    peak_rss_mib: engine?.peak_rss_mib ?? null,
    torch_peak_rss_mib: torch?.peakRssMib ?? null,
    kernel: engine?.kernel ?? null,
    threads,
  };
}
console.log(
  JSON.stringify({
    ...summary,
    ...(student ? { student } : {}),
    pytorch: torchInfo,
    kernel: reported,
    loadavg: { start: loadStart, end: loadavg() },
  }),
);
