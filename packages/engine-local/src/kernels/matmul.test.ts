import { describe, expect, it } from "vitest";
import { matmulJs } from "./matmul-js.ts";
import { matmulWasm } from "./matmul-wasm.ts";
import { setMatmulThreads } from "./parallel.ts";
import { Rng } from "./rng.ts";
import { isWasmKernelAvailable } from "./wasm-kernel.ts";

function randomArray(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

describe("WebAssembly SIMD matmul", () => {
  it("stays exact across hundreds of back-to-back two-thread products of changing shapes", () => {
    setMatmulThreads(2);
    const rng = Rng.fromSeed(99);
    for (let n = 0; n < 200; n++) {
      const M = 16 + rng.int(200);
      const K = 64 + rng.int(200);
      const N = 64 + rng.int(100);
      const a = Float32Array.from({ length: M * K }, () => rng.next() - 0.5);
      const b = Float32Array.from({ length: K * N }, () => rng.next() - 0.5);
      const got = new Float32Array(M * N);
      matmulWasm(a, b, got, M, K, N, false, n % 2 === 0, false);
      const single = new Float32Array(M * N);
      setMatmulThreads(1);
      matmulWasm(a, b, single, M, K, N, false, n % 2 === 0, false);
      setMatmulThreads(2);
      expect(got).toEqual(single);
    }
    setMatmulThreads(1);
  });

  it("is built (npm run build) and loads", () => {
    expect(isWasmKernelAvailable()).toBe(true);
  });

  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [4, 8, 8],
    [7, 13, 19],
    [64, 32, 64],
    [33, 128, 130],
  ];
  for (const [M, K, N] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`matches the JS reference for ${M}x${K}x${N} transA=${transA} transB=${transB}`, () => {
          const rng = Rng.fromSeed(M * 1000 + K * 10 + N);
          const a = randomArray(M * K, rng);
          const b = randomArray(K * N, rng);
          const c0 = randomArray(M * N, rng);
          const expected = Float64Array.from(c0);
          matmulJs(Float64Array.from(a), Float64Array.from(b), expected, M, K, N, transA, transB, true);
          const got = Float32Array.from(c0);
          matmulWasm(a, b, got, M, K, N, transA, transB, true);
          for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(expected[i] as number, 3);
          const fresh = new Float32Array(M * N).fill(99);
          matmulWasm(a, b, fresh, M, K, N, transA, transB, false);
          expect(fresh[0]).toBeCloseTo((expected[0] as number) - (c0[0] as number), 3);
        });
      }
    }
  }
});
