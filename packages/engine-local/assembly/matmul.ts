// Single-precision matmul kernel: C[M,N] (+)= alpha · A[M,K] · B[K,N] in linear memory.
// A is read through strides (row stride rowA, column stride stepA, in bytes), so a transposed A
// needs no copy; B and C are row-major with row strides ldb and ldc (bytes), so a head's slice of
// a [rows, heads·hd] tensor is used in place. Tiles are 4 rows × 8 columns: 8 v128 accumulators
// + 2 B vectors + 1 splat stay in the 16 xmm registers of x86-64, so the inner loop does no spills.

/** acc + a·b: one fused multiply-add in the relaxed-SIMD build, mul then add otherwise. */
@inline
function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** c = alpha·v (+ c) for one 4-lane vector of C. */
@inline
function finish(c: usize, v: v128, accumulate: bool, scaled: bool, alpha: v128): void {
  if (scaled) v = f32x4.mul(v, alpha);
  if (accumulate) v = f32x4.add(v, v128.load(c));
  v128.store(c, v);
}

@inline
function tile4x8(
  a: usize, b: usize, c: usize, K: i32, ldb: usize, ldc: usize,
  accumulate: bool, scaled: bool, alpha: v128, rowA: usize, stepA: usize,
): void {
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
    pb += ldb;
    ak += stepA;
  }
  finish(c, c00, accumulate, scaled, alpha); finish(c + 16, c01, accumulate, scaled, alpha);
  finish(c + ldc, c10, accumulate, scaled, alpha); finish(c + ldc + 16, c11, accumulate, scaled, alpha);
  finish(c + 2 * ldc, c20, accumulate, scaled, alpha); finish(c + 2 * ldc + 16, c21, accumulate, scaled, alpha);
  finish(c + 3 * ldc, c30, accumulate, scaled, alpha); finish(c + 3 * ldc + 16, c31, accumulate, scaled, alpha);
}

/** One row × 8 columns, for the rows left over when M is not a multiple of 4. */
@inline
function tile1x8(
  a: usize, b: usize, c: usize, K: i32, ldb: usize, accumulate: bool, scaled: bool, alpha: v128, stepA: usize,
): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let pb = b;
  let ak = a;
  for (let k: usize = 0; k < <usize>K; k++) {
    const s = v128.load32_splat(ak);
    ak += stepA;
    c0 = madd(s, v128.load(pb), c0);
    c1 = madd(s, v128.load(pb, 16), c1);
    pb += ldb;
  }
  finish(c, c0, accumulate, scaled, alpha);
  finish(c + 16, c1, accumulate, scaled, alpha);
}

/** One output element the slow way, for the ragged right edge. */
@inline
function scalarCell(a: usize, b: usize, c: usize, K: i32, ldb: usize, accumulate: bool, alpha: f32, stepA: usize): void {
  let sum: f32 = 0;
  let ak = a;
  let pb = b;
  for (let k = 0; k < K; k++) {
    sum += load<f32>(ak) * load<f32>(pb);
    ak += stepA;
    pb += ldb;
  }
  sum *= alpha;
  store<f32>(c, accumulate ? load<f32>(c) + sum : sum);
}

/**
 * C (+)= alpha · A·B where A's element (i, k) is at a + i·rowA + k·stepA bytes (row-major A has
 * (rowA, stepA) = (4K, 4); a transposed A stored [K, M] has (4, 4M)), B's row k starts at
 * b + k·ldb and C's row i at c + i·ldc.
 */
export function gemm(
  a: usize, rowA: usize, stepA: usize, b: usize, ldb: usize, c: usize, ldc: usize,
  M: i32, K: i32, N: i32, accumulate: i32, alpha: f32,
): void {
  const acc = accumulate != 0;
  const scaled = alpha != 1;
  const av = f32x4.splat(alpha);
  const N8 = N & ~7;
  const M4 = M & ~3;
  for (let i = 0; i < M4; i += 4) {
    const ai = a + <usize>i * rowA;
    const ci = c + <usize>i * ldc;
    for (let j = 0; j < N8; j += 8) {
      const o = (<usize>j) << 2;
      tile4x8(ai, b + o, ci + o, K, ldb, ldc, acc, scaled, av, rowA, stepA);
    }
  }
  for (let i = M4; i < M; i++) {
    const ai = a + <usize>i * rowA;
    const ci = c + <usize>i * ldc;
    for (let j = 0; j < N8; j += 8) {
      const o = (<usize>j) << 2;
      tile1x8(ai, b + o, ci + o, K, ldb, acc, scaled, av, stepA);
    }
  }
  if (N8 < N) {
    for (let i = 0; i < M; i++) {
      for (let j = N8; j < N; j++) {
        const o = (<usize>j) << 2;
        scalarCell(a + <usize>i * rowA, b + o, c + <usize>i * ldc + o, K, ldb, acc, alpha, stepA);
      }
    }
  }
}

/** C[M,N] (+)= A·B with a strided A and row-major B and C (see gemm). */
export function matmulStrided(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, accumulate: i32, rowA: usize, stepA: usize): void {
  const row = (<usize>N) << 2;
  gemm(a, rowA, stepA, b, row, c, row, M, K, N, accumulate, 1);
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
  transposeStrided(src, (<usize>cols) << 2, dst, rows, cols);
}

/** dst[cols, rows] = src[rows, cols]ᵀ where src's rows are srcRow bytes apart. */
export function transposeStrided(src: usize, srcRow: usize, dst: usize, rows: i32, cols: i32): void {
  transposeStridedTo(src, srcRow, dst, (<usize>rows) << 2, rows, cols);
}

/** transposeStrided into a dst whose rows are dstRow bytes apart (a column block of a wider dst). */
export function transposeStridedTo(src: usize, srcRow: usize, dst: usize, dstRow: usize, rows: i32, cols: i32): void {
  const R4 = rows & ~3;
  const C4 = cols & ~3;
  for (let i = 0; i < R4; i += 4) {
    for (let j = 0; j < C4; j += 4) {
      const s = src + <usize>i * srcRow + ((<usize>j) << 2);
      const r0 = v128.load(s);
      const r1 = v128.load(s + srcRow);
      const r2 = v128.load(s + 2 * srcRow);
      const r3 = v128.load(s + 3 * srcRow);
      const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
      const t1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
      const t2 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
      const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
      const d = dst + <usize>j * dstRow + ((<usize>i) << 2);
      v128.store(d, v128.shuffle<i32>(t0, t1, 0, 1, 4, 5));
      v128.store(d + dstRow, v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
      v128.store(d + 2 * dstRow, v128.shuffle<i32>(t2, t3, 0, 1, 4, 5));
      v128.store(d + 3 * dstRow, v128.shuffle<i32>(t2, t3, 2, 3, 6, 7));
    }
  }
  for (let i = 0; i < rows; i++) {
    const jStart = i < R4 ? C4 : 0;
    const s = src + <usize>i * srcRow;
    for (let j = jStart; j < cols; j++) {
      store<f32>(dst + <usize>j * dstRow + ((<usize>i) << 2), load<f32>(s + ((<usize>j) << 2)));
    }
  }
}
