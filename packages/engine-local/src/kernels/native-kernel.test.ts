import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { matmulWasm } from "./matmul-wasm.ts";
import { loadNativeKernel, type NativeVariant } from "./native-kernel.ts";
import { setMatmulThreads } from "./parallel.ts";
import { Rng } from "./rng.ts";

/**
 * The float32 product kernels (every native variant this CPU runs: AVX-512 12×32 tiles with
 * 128-deep K blocks, AVX2+FMA 6×16 with 256-deep K blocks, NEON 8×12 on arm64, portable C++;
 * and WebAssembly) against a float64 reference on odd shapes that cross every tile, panel and
 * block edge (144-row A blocks, 2040/2048-column B blocks, and the unpacked path for fewer than
 * 4 rows, as in decoding).
 */
const shapes: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 63],
  [7, 63, 65],
  [63, 65, 7],
  [65, 1, 511],
  [511, 7, 63],
  [7, 511, 65],
  [65, 511, 1],
  [63, 65, 511],
  [511, 300, 65],
  [5, 33, 2100],
  [64, 512, 200],
  [3, 600, 50],
  [2, 700, 4000],
  [13, 129, 33],
  [145, 257, 97],
];

function reference(
  a: Float32Array,
  b: Float32Array,
  c0: Float32Array,
  M: number,
  K: number,
  N: number,
  transA: boolean,
  transB: boolean,
  accumulate: boolean,
  alpha: number,
): { value: Float64Array; bound: Float64Array } {
  const value = new Float64Array(M * N);
  const bound = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let mag = 0;
      for (let k = 0; k < K; k++) {
        const x = (transA ? a[k * M + i] : a[i * K + k]) as number;
        const y = (transB ? b[j * K + k] : b[k * N + j]) as number;
        s += x * y;
        mag += Math.abs(x * y);
      }
      const prior = accumulate ? (c0[i * N + j] as number) : 0;
      value[i * N + j] = prior + alpha * s;
      bound[i * N + j] = Math.abs(prior) + Math.abs(alpha) * mag;
    }
  }
  return { value, bound };
}

type Gemm = (
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  M: number,
  K: number,
  N: number,
  transA: boolean,
  transB: boolean,
  accumulate: boolean,
  alpha: number,
) => void;

/** the float64 products, computed once for all kernels (inputs come from the shape's seed) */
const references = new Map<string, { value: Float64Array; bound: Float64Array }>();

function checkKernel(gemm: Gemm, M: number, K: number, N: number): void {
  const rng = Rng.fromSeed(M * 7919 + K * 31 + N);
  const a = Float32Array.from({ length: M * K }, () => rng.normal());
  const b = Float32Array.from({ length: K * N }, () => rng.normal());
  const c0 = Float32Array.from({ length: M * N }, () => rng.normal());
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const [accumulate, alpha] of [
        [false, 1],
        [true, 1],
        [false, 0.25],
        [true, -1.5],
      ] as const) {
        const key = `${M}x${K}x${N}/${transA}/${transB}/${accumulate}/${alpha}`;
        const want = references.get(key) ?? reference(a, b, c0, M, K, N, transA, transB, accumulate, alpha);
        references.set(key, want);
        // a C that is not overwritten where it should be shows up as NaN
        const got = accumulate ? Float32Array.from(c0) : new Float32Array(M * N).fill(Number.NaN);
        gemm(a, b, got, M, K, N, transA, transB, accumulate, alpha);
        for (let i = 0; i < got.length; i++) {
          const err = Math.abs((got[i] as number) - (want.value[i] as number));
          // float32 summation of K terms: a few ulps of the magnitudes summed
          if (!(err <= 4e-7 * (K + 2) * (want.bound[i] as number) + 1e-30))
            throw new Error(
              `${M}x${K}x${N} transA=${transA} transB=${transB} accumulate=${accumulate} alpha=${alpha}: ` +
                `[${i}] got ${got[i]}, want ${want.value[i]}`,
            );
        }
      }
    }
  }
}

const native = loadNativeKernel();

describe("native kernels (native/)", () => {
  it("are built at install and load on this machine (DISTILLERY_ENGINE_NATIVE_BUILD=0 skips the build)", () => {
    if (process.env.DISTILLERY_ENGINE_NATIVE_BUILD === "0") return;
    expect(native).not.toBeNull();
  });

  it.runIf(native && process.platform === "linux" && process.arch === "x64")(
    "picks the widest x86 kernel /proc/cpuinfo lists (AVX-512F, else AVX2+FMA, else portable)",
    () => {
      const flags = new Set(
        (readFileSync("/proc/cpuinfo", "utf8").match(/^flags\s*:(.*)$/m)?.[1] ?? "").trim().split(/\s+/),
      );
      const want = flags.has("avx512f")
        ? "avx512"
        : flags.has("avx2") && flags.has("fma")
          ? "avx2"
          : "scalar";
      expect(native?.kernel()).toBe(want);
      expect(native?.kernels()).toContain("scalar");
      if (want === "avx512") expect(native?.kernels()).toEqual(["avx512", "avx2", "scalar"]);
    },
  );

  it.skipIf(!native)("refuses a kernel this CPU or build does not have, and unknown names", () => {
    const f = new Float32Array(4);
    const missing = (["avx512", "avx2", "neon"] as const).find((k) => !native?.kernels().includes(k));
    if (missing)
      expect(() => native?.sgemm(f, f, f, 2, 2, 2, false, false, false, 1, 1, missing)).toThrow(/has no/);
    expect(() =>
      native?.sgemm(f, f, f, 2, 2, 2, false, false, false, 1, 1, "sve" as unknown as NativeVariant),
    ).toThrow(/kernel must be/);
  });

  // every kernel this machine runs (NEON only on arm64: compiled for arm64 only)
  const variants: NativeVariant[] = native?.kernels() ?? [];
  for (const variant of variants) {
    for (const threads of [1, 2]) {
      for (const [M, K, N] of shapes) {
        it.skipIf(!native)(
          `${variant}, ${threads} thread(s): ${M}x${K}x${N} matches float64 in every op/accumulate/alpha`,
          () => {
            checkKernel(
              (a, b, c, m, k, n, tA, tB, acc, alpha) =>
                native?.sgemm(a, b, c, m, k, n, tA, tB, acc, alpha, threads, variant),
              M,
              K,
              N,
            );
          },
        );
      }
    }
  }

  it.skipIf(!native)("uses typed-array views in place (offsets into a shared buffer, no copy)", () => {
    const sab = new SharedArrayBuffer(4 * 1000);
    const a = new Float32Array(sab, 4 * 3, 6).fill(1); // [2,3]
    const b = new Float32Array(sab, 4 * 100, 12).fill(2); // [3,4]
    const c = new Float32Array(sab, 4 * 200, 8);
    native?.sgemm(a, b, c, 2, 3, 4, false, false, false, 1, 1, "auto");
    expect(Array.from(c)).toEqual(Array(8).fill(6));
    expect(new Float32Array(sab)[199]).toBe(0);
    expect(new Float32Array(sab)[208]).toBe(0);
  });

  // two threads split C in chunks of whole tiles (or rows, on the narrow AVX-512 path) that the
  // pool's helper claims: every element sees the same arithmetic, so the same bits as one thread
  it.skipIf(!native)("gives the same bits on one thread and two (the pool's chunks), every kernel", () => {
    for (const variant of native?.kernels() ?? []) {
      for (const [M, K, N] of [
        [512, 128, 8],
        [8, 512, 128],
        [512, 300, 130],
        [97, 700, 1000],
        [2100, 64, 40],
      ] as const) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const rng = Rng.fromSeed(M + K + N);
            const a = Float32Array.from({ length: M * K }, () => rng.normal());
            const b = Float32Array.from({ length: K * N }, () => rng.normal());
            const c0 = Float32Array.from({ length: M * N }, () => rng.normal());
            const one = Float32Array.from(c0);
            const two = Float32Array.from(c0);
            native?.sgemm(a, b, one, M, K, N, transA, transB, true, 0.5, 1, variant);
            native?.sgemm(a, b, two, M, K, N, transA, transB, true, 0.5, 2, variant);
            if (!one.every((x, i) => Object.is(x, two[i])))
              throw new Error(
                `${variant} ${M}x${K}x${N} transA=${transA} transB=${transB}: 2 threads differ`,
              );
          }
        }
      }
    }
  });

  it.skipIf(!native)("refuses arrays too short for the product and non-float32 arrays", () => {
    const f = new Float32Array(4);
    expect(() => native?.sgemm(f, f, f, 2, 3, 2, false, false, false, 1, 1, "auto")).toThrow(
      /a holds 4 floats/,
    );
    expect(() =>
      native?.sgemm(
        new Float64Array(4) as unknown as Float32Array,
        f,
        f,
        2,
        2,
        2,
        false,
        false,
        false,
        1,
        1,
        "auto",
      ),
    ).toThrow(/Float32Array/);
  });
});

describe("WebAssembly kernel on the same shapes", () => {
  for (const threads of [1, 2]) {
    for (const [M, K, N] of shapes) {
      it(`${threads} thread(s): ${M}x${K}x${N} matches float64 in every op/accumulate/alpha`, () => {
        setMatmulThreads(threads);
        try {
          checkKernel(matmulWasm, M, K, N);
        } finally {
          setMatmulThreads(1);
        }
      });
    }
  }
});
