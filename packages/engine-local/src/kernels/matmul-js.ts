import type { FArray } from "./float-array.ts";

/**
 * Reference matmul in plain JS (float64 gradient checks, and the fallback when WebAssembly is
 * unavailable): C[M,N] (+)= alpha · op(A)[M,K] · op(B)[K,N], with op(A) = Aᵀ when A is stored [K,M] and
 * op(B) = Bᵀ when B is stored [N,K]. Loops are ordered i-k-j so the innermost one is contiguous.
 */
export function matmulJs(
  a: FArray,
  b: FArray,
  c: FArray,
  M: number,
  K: number,
  N: number,
  transA: boolean,
  transB: boolean,
  accumulate: boolean,
  alpha = 1,
): void {
  if (!accumulate) c.fill(0, 0, M * N);
  if (!transB) {
    for (let i = 0; i < M; i++) {
      const ci = i * N;
      for (let k = 0; k < K; k++) {
        const aik = alpha * (transA ? (a[k * M + i] as number) : (a[i * K + k] as number));
        if (aik === 0) continue;
        const bk = k * N;
        for (let j = 0; j < N; j++) c[ci + j] = (c[ci + j] as number) + aik * (b[bk + j] as number);
      }
    }
    return;
  }
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0;
      const bj = j * K;
      if (transA) for (let k = 0; k < K; k++) sum += (a[k * M + i] as number) * (b[bj + k] as number);
      else {
        const ai = i * K;
        for (let k = 0; k < K; k++) sum += (a[ai + k] as number) * (b[bj + k] as number);
      }
      c[i * N + j] = (c[i * N + j] as number) + alpha * sum;
    }
  }
}
