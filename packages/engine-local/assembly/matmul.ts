// Single-precision matmul kernel: C[M,N] (+)= A[M,K] · B[K,N], all row-major in linear memory.
// The caller (src/kernels/matmul-wasm.ts) copies operands in and results out, and turns
// transposed operands into row-major ones first, so one register-blocked kernel serves all cases.
// Tiles are 4 rows × 8 columns: 8 v128 accumulators + 2 B vectors + 1 splat stay in the 16 xmm
// registers of x86-64, so the inner loop does no spills.

/** acc + a·b: one fused multiply-add in the relaxed-SIMD build, mul then add otherwise. */
@inline
function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

@inline
function tile4x8(a: usize, b: usize, c: usize, K: i32, N: i32, accumulate: bool, rowA: usize, stepA: usize): void {
  const rowC = <usize>N << 2;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let pb = b;
  let ak = a;
  for (let k: usize = 0; k < <usize>K; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let s = v128.load32_splat(ak);
    c00 = madd(s, b0, c00);
    c01 = madd(s, b1, c01);
    s = v128.load32_splat(ak + rowA);
    c10 = madd(s, b0, c10);
    c11 = madd(s, b1, c11);
    s = v128.load32_splat(ak + 2 * rowA);
    c20 = madd(s, b0, c20);
    c21 = madd(s, b1, c21);
    s = v128.load32_splat(ak + 3 * rowA);
    c30 = madd(s, b0, c30);
    c31 = madd(s, b1, c31);
    pb += rowC;
    ak += stepA;
  }
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + rowC)); c11 = f32x4.add(c11, v128.load(c + rowC, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * rowC)); c21 = f32x4.add(c21, v128.load(c + 2 * rowC, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * rowC)); c31 = f32x4.add(c31, v128.load(c + 3 * rowC, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + rowC, c10); v128.store(c + rowC, c11, 16);
  v128.store(c + 2 * rowC, c20); v128.store(c + 2 * rowC, c21, 16);
  v128.store(c + 3 * rowC, c30); v128.store(c + 3 * rowC, c31, 16);
}

/** One output element the slow way, for the ragged right and bottom edges. */
@inline
function scalarCell(a: usize, b: usize, c: usize, i: i32, j: i32, K: i32, N: i32, accumulate: bool, rowA: usize, stepA: usize): void {
  let sum: f32 = 0;
  let ak = a + <usize>i * rowA;
  for (let k = 0; k < K; k++) {
    sum += load<f32>(ak) * load<f32>(b + ((<usize>(k * N + j)) << 2));
    ak += stepA;
  }
  const pc = c + ((<usize>(i * N + j)) << 2);
  store<f32>(pc, accumulate ? load<f32>(pc) + sum : sum);
}

/** One row × 8 columns, for the rows left over when M is not a multiple of 4. */
@inline
function tile1x8(a: usize, b: usize, c: usize, K: i32, N: i32, accumulate: bool, stepA: usize): void {
  const rowC = <usize>N << 2;
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let pb = b;
  let ak = a;
  for (let k: usize = 0; k < <usize>K; k++) {
    const s = v128.load32_splat(ak);
    ak += stepA;
    c0 = madd(s, v128.load(pb), c0);
    c1 = madd(s, v128.load(pb, 16), c1);
    pb += rowC;
  }
  if (accumulate) {
    c0 = f32x4.add(c0, v128.load(c));
    c1 = f32x4.add(c1, v128.load(c, 16));
  }
  v128.store(c, c0);
  v128.store(c, c1, 16);
}

/**
 * C[M,N] (+)= A·B where A's element (i, k) is at a + i·rowA + k·stepA bytes: row-major A has
 * (rowA, stepA) = (4K, 4), and a transposed A stored [K, M] has (4, 4M), so Aᵀ·B needs no
 * transpose copy.
 */
export function matmulStrided(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, accumulate: i32, rowA: usize, stepA: usize): void {
  const acc = accumulate != 0;
  const N8 = N & ~7;
  const M4 = M & ~3;
  for (let i = 0; i < M4; i += 4) {
    const ai = a + <usize>i * rowA;
    const ci = c + ((<usize>(i * N)) << 2);
    for (let j = 0; j < N8; j += 8) {
      tile4x8(ai, b + ((<usize>j) << 2), ci + ((<usize>j) << 2), K, N, acc, rowA, stepA);
    }
  }
  for (let i = M4; i < M; i++) {
    const ai = a + <usize>i * rowA;
    const ci = c + ((<usize>(i * N)) << 2);
    for (let j = 0; j < N8; j += 8) {
      tile1x8(ai, b + ((<usize>j) << 2), ci + ((<usize>j) << 2), K, N, acc, stepA);
    }
  }
  if (N8 < N) {
    for (let i = 0; i < M; i++) {
      for (let j = N8; j < N; j++) scalarCell(a, b, c, i, j, K, N, acc, rowA, stepA);
    }
  }
}

/** C[M,N] (+)= A[M,K] · B[K,N], all row-major. */
export function matmulNN(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, accumulate: i32): void {
  matmulStrided(a, b, c, M, K, N, accumulate, <usize>K << 2, 4);
}

/**
 * dst[cols, rows] = src[rows, cols]ᵀ, so transposed operands can feed matmulNN. 4×4 blocks are
 * transposed in registers with shuffles; the ragged edges go element by element.
 */
export function transpose(src: usize, dst: usize, rows: i32, cols: i32): void {
  const R4 = rows & ~3;
  const C4 = cols & ~3;
  const srcRow = <usize>cols << 2;
  const dstRow = <usize>rows << 2;
  for (let i = 0; i < R4; i += 4) {
    for (let j = 0; j < C4; j += 4) {
      const s = src + ((<usize>(i * cols + j)) << 2);
      const r0 = v128.load(s);
      const r1 = v128.load(s + srcRow);
      const r2 = v128.load(s + 2 * srcRow);
      const r3 = v128.load(s + 3 * srcRow);
      const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
      const t1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
      const t2 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
      const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
      const d = dst + ((<usize>(j * rows + i)) << 2);
      v128.store(d, v128.shuffle<i32>(t0, t1, 0, 1, 4, 5));
      v128.store(d + dstRow, v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
      v128.store(d + 2 * dstRow, v128.shuffle<i32>(t2, t3, 0, 1, 4, 5));
      v128.store(d + 3 * dstRow, v128.shuffle<i32>(t2, t3, 2, 3, 6, 7));
    }
  }
  for (let i = 0; i < rows; i++) {
    const jStart = i < R4 ? C4 : 0;
    const s = src + ((<usize>(i * cols)) << 2);
    for (let j = jStart; j < cols; j++) {
      store<f32>(dst + ((<usize>(j * rows + i)) << 2), load<f32>(s + ((<usize>j) << 2)));
    }
  }
}
