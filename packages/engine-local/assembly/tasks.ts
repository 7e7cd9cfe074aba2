// One entry point for work that the calling thread and the helper thread share: the JS side
// (src/kernels/parallel.ts) writes an argument block into memory and both threads call
// runTask(op, args, start, end, thread) on disjoint unit ranges [start, end) of it.
import { arg, argF, argI } from "./args";
import { attentionBackwardUnits, attentionForwardUnits } from "./attention";
import { addInPlace, rmsnormBackward, rmsnormForward, swigluBackward, swigluForward } from "./elementwise";
import { gemm, transposeStridedTo } from "./matmul";

// op codes; keep in sync with OP in src/kernels/parallel.ts
const OP_GEMM: i32 = 0;
const OP_ATTN_FWD: i32 = 1;
const OP_ATTN_BWD: i32 = 2;
const OP_RMSNORM_FWD: i32 = 3;
const OP_RMSNORM_BWD: i32 = 4;
const OP_SWIGLU_FWD: i32 = 5;
const OP_SWIGLU_BWD: i32 = 6;
const OP_ADD: i32 = 7;
const OP_ROPE: i32 = 8;
const OP_TRANSPOSE: i32 = 9;

/**
 * x rotated in place (rotate_half convention) for rows [r0, r1) of [rows, heads·hd]; row r sits at
 * position (r mod seq) − seg[r] (seg = 0: unpacked). cos/sin are [positions, hd/2] float32 tables.
 * inverse applies the transpose rotation (the backward pass).
 */
function ropeRows(args: usize, r0: i32, r1: i32): void {
  const x = arg(args, 0);
  const heads = argI(args, 1);
  const hd = argI(args, 2);
  const cosT = arg(args, 3);
  const sinT = arg(args, 4);
  const seq = argI(args, 5);
  const seg = arg(args, 6);
  const sgn: f32 = argI(args, 7) != 0 ? -1 : 1;
  const half = hd >> 1;
  const half4 = half & ~3;
  const halfBytes = (<usize>half) << 2;
  const sv = f32x4.splat(sgn);
  for (let r = r0; r < r1; r++) {
    let pos = r % seq;
    if (seg != 0) pos -= load<i32>(seg + ((<usize>r) << 2));
    const tc = cosT + <usize>(pos * half) * 4;
    const ts = sinT + <usize>(pos * half) * 4;
    for (let h = 0; h < heads; h++) {
      const o = x + ((<usize>(r * heads * hd + h * hd)) << 2);
      for (let i = 0; i < half4; i += 4) {
        const bo = (<usize>i) << 2;
        const c = v128.load(tc + bo);
        const s = f32x4.mul(v128.load(ts + bo), sv);
        const x1 = v128.load(o + bo);
        const x2 = v128.load(o + halfBytes + bo);
        v128.store(o + bo, f32x4.sub(f32x4.mul(x1, c), f32x4.mul(x2, s)));
        v128.store(o + halfBytes + bo, f32x4.add(f32x4.mul(x2, c), f32x4.mul(x1, s)));
      }
      for (let i = half4; i < half; i++) {
        const bo = (<usize>i) << 2;
        const c = load<f32>(tc + bo);
        const s = load<f32>(ts + bo) * sgn;
        const x1 = load<f32>(o + bo);
        const x2 = load<f32>(o + halfBytes + bo);
        store<f32>(o + bo, x1 * c - x2 * s);
        store<f32>(o + halfBytes + bo, x2 * c + x1 * s);
      }
    }
  }
}

export function runTask(op: i32, args: usize, start: i32, end: i32, thread: i32): void {
  const n = end - start;
  if (n <= 0) return;
  if (op == OP_GEMM) {
    // a, rowA, stepA, b, ldb, c, ldc, M, K, N, accumulate, alpha; units are rows of C
    const rowA = arg(args, 1);
    const ldc = arg(args, 6);
    gemm(arg(args, 0) + <usize>start * rowA, rowA, arg(args, 2), arg(args, 3), arg(args, 4),
      arg(args, 5) + <usize>start * ldc, ldc, n, argI(args, 8), argI(args, 9), argI(args, 10), argF(args, 11));
  } else if (op == OP_ATTN_FWD) {
    attentionForwardUnits(args, start, end, thread);
  } else if (op == OP_ATTN_BWD) {
    attentionBackwardUnits(args, start, end, thread);
  } else if (op == OP_RMSNORM_FWD) {
    // x, w, y, rinv, d, eps; units are rows
    const d = argI(args, 4);
    const off = <usize>start * <usize>d * 4;
    rmsnormForward(arg(args, 0) + off, arg(args, 1), arg(args, 2) + off, arg(args, 3) + <usize>start * 4, n, d, argF(args, 5));
  } else if (op == OP_RMSNORM_BWD) {
    // x, w, rinv, dy, dx, d; units are rows
    const d = argI(args, 5);
    const off = <usize>start * <usize>d * 4;
    rmsnormBackward(arg(args, 0) + off, arg(args, 1), arg(args, 2) + <usize>start * 4, arg(args, 3) + off, arg(args, 4) + off, n, d);
  } else if (op == OP_SWIGLU_FWD) {
    // g, u, a, sig; units are elements
    const off = <usize>start * 4;
    swigluForward(arg(args, 0) + off, arg(args, 1) + off, arg(args, 2) + off, arg(args, 3) + off, n);
  } else if (op == OP_SWIGLU_BWD) {
    // g, u, sig, da; units are elements
    const off = <usize>start * 4;
    swigluBackward(arg(args, 0) + off, arg(args, 1) + off, arg(args, 2) + off, arg(args, 3) + off, n);
  } else if (op == OP_ADD) {
    // a, b; units are elements
    const off = <usize>start * 4;
    addInPlace(arg(args, 0) + off, arg(args, 1) + off, n);
  } else if (op == OP_ROPE) {
    ropeRows(args, start, end);
  } else if (op == OP_TRANSPOSE) {
    // src, dst, rows, cols: dst[cols, rows] = srcᵀ; units are rows of src (multiples of 4)
    const rows = argI(args, 2);
    const cols = argI(args, 3);
    const srcRow = (<usize>cols) << 2;
    // rows [start, end) of src land in columns [start, end) of dst, whose rows are `rows` wide
    transposeStridedTo(arg(args, 0) + <usize>start * srcRow, srcRow, arg(args, 1) + ((<usize>start) << 2), (<usize>rows) << 2, n, cols);
  }
}

