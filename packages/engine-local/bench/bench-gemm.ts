/**
 * `npm run bench:gemm -w packages/engine-local`: GFLOP/s of the float32 product kernels, every
 * native SIMD variant this CPU runs (AVX-512, AVX2+FMA, NEON) against WebAssembly SIMD, on one
 * and two threads (BENCH_GEMM_KERNELS=native-avx512,wasm picks some), operands in the
 * shared wasm memory (as a training step's activations are, so the wasm kernel copies nothing
 * but a transposed B). Prints a table, then one JSON line. A benchmark: it asserts nothing.
 * BENCH_GEMM_SECONDS (default 0.4) is the time spent per measurement.
 */
import { availableParallelism, cpus, loadavg } from "node:os";
import { activeMatmulKernel, matmul, setMatmulKernel } from "../src/kernels/matmul.ts";
import { getNativeVariants, SIMD_VARIANTS } from "../src/kernels/native-kernel.ts";
import { setMatmulThreads } from "../src/kernels/parallel.ts";
import { Rng } from "../src/kernels/rng.ts";
import { allocArenaF32, runInArena } from "../src/kernels/wasm-memory.ts";

const SECONDS = Number(process.env.BENCH_GEMM_SECONDS ?? 0.4);
/** [M, K, N, transB]: squares, the step's shapes (512 rows of hidden 128/256, MLP 512) and a long K */
const SHAPES: [number, number, number, boolean][] = [
  [512, 512, 512, false],
  [512, 512, 512, true],
  [512, 2048, 128, false],
  [512, 128, 384, true],
  [512, 256, 1024, true],
  [512, 1024, 256, false],
];

console.log(
  `${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} cores, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
const kernels: string[] = process.env.BENCH_GEMM_KERNELS
  ? process.env.BENCH_GEMM_KERNELS.split(",")
  : [
      ...getNativeVariants()
        .filter((v) => SIMD_VARIANTS.includes(v))
        .map((v) => `native-${v}`),
      "wasm",
    ];
for (const [i, k] of kernels.entries()) {
  setMatmulKernel(k);
  kernels[i] = activeMatmulKernel();
}
const results: Record<string, Record<string, number>> = {};
runInArena(() => {
  for (const [M, K, N, transB] of SHAPES) {
    const rng = Rng.fromSeed(M + K + N);
    const a = allocArenaF32(M * K, true) as Float32Array;
    const b = allocArenaF32(K * N, true) as Float32Array;
    const c = allocArenaF32(M * N, true) as Float32Array;
    for (let i = 0; i < a.length; i++) a[i] = rng.normal();
    for (let i = 0; i < b.length; i++) b[i] = rng.normal();
    const name = `${M}x${K}x${N}${transB ? " B^T" : ""}`;
    const row: Record<string, number> = {};
    for (const kernel of kernels) {
      setMatmulKernel(kernel.startsWith("native") ? kernel : "wasm");
      for (const threads of availableParallelism() > 1 ? [1, 2] : [1]) {
        setMatmulThreads(threads);
        matmul(a, b, c, M, K, N, { transB });
        let n = 0;
        const t0 = performance.now();
        let t = t0;
        while (t - t0 < SECONDS * 1000 || n < 3) {
          matmul(a, b, c, M, K, N, { transB });
          n++;
          t = performance.now();
        }
        row[`${kernel} ${threads}t`] = Math.round(((2 * M * K * N * n) / ((t - t0) * 1e6)) * 10) / 10;
      }
    }
    results[name] = row;
    console.log(
      `${name.padEnd(18)} ${Object.entries(row)
        .map(([k, v]) => `${k}: ${v.toFixed(1)}`)
        .join("  ")} GFLOP/s`,
    );
  }
});
setMatmulKernel("auto");
setMatmulThreads(1);
console.log(
  JSON.stringify({
    gflops: results,
    cpu: cpus()[0]?.model ?? null,
    cores: availableParallelism(),
    loadavg: loadavg(),
  }),
);
