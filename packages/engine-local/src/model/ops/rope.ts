import { kernelForArena } from "../../kernels/elementwise-wasm.ts";
import type { FArray } from "../../kernels/float-array.ts";
import { chunkFor, OP, runTask, taskArgs } from "../../kernels/parallel.ts";
import { copyAllToScratch, isArenaView } from "../../kernels/wasm-memory.ts";

/**
 * Rotary tables as HF builds them: inv_freq[i] = 1 / θ^(2i/hd), angle = pos · inv_freq[i], and the
 * rotate_half convention (the first half of a head pairs with the second half). Every step is
 * float32 math, as transformers' `_compute_default_rope_parameters` and its rotary forward run it.
 */
export interface RopeTables {
  cos: Float64Array; // [positions, hd/2], each value a float32
  sin: Float64Array;
  half: number;
  /** the same tables as float32 arrays, for the wasm kernel (made on first use) */
  f32?: { cos: Float32Array; sin: Float32Array };
}

/**
 * `1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))` in float32: the
 * exponent is a float32 quotient, the power a float32 power of the float32 base (a Python float
 * base is a wrapped scalar, so the result stays float32), the reciprocal a float32 division.
 * Each step is the correctly rounded float32 result (a double-precision op rounded once).
 */
export function ropeInvFreq(headDim: number, theta: number): Float32Array {
  const half = headDim / 2;
  const base = Math.fround(theta);
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = Math.fround((2 * i) / headDim);
    const power = Math.fround(base ** exponent);
    out[i] = Math.fround(1 / power);
  }
  return out;
}

export function buildRopeTables(positions: number, headDim: number, theta: number): RopeTables {
  const half = headDim / 2;
  const invFreq = ropeInvFreq(headDim, theta);
  const cos = new Float64Array(positions * half);
  const sin = new Float64Array(positions * half);
  for (let i = 0; i < half; i++) {
    const f = invFreq[i] as number;
    for (let p = 0; p < positions; p++) {
      // the float32 product position · inv_freq (torch's matmul of the two float32 tensors), and
      // its float32 cosine and sine
      const angle = Math.fround(p * f);
      cos[p * half + i] = Math.fround(Math.cos(angle));
      sin[p * half + i] = Math.fround(Math.sin(angle));
    }
  }
  return { cos, sin, half };
}

/**
 * Rotates x in place: x is [rows, heads·hd] where row i sits at position pos(i).
 * `inverse` applies the transpose rotation, which is the backward pass.
 */
export function applyRope(
  x: FArray,
  rows: number,
  heads: number,
  headDim: number,
  tables: RopeTables,
  posOf: (row: number) => number,
  inverse = false,
): void {
  const half = tables.half;
  const sgn = inverse ? -1 : 1;
  for (let r = 0; r < rows; r++) {
    const p = posOf(r) * half;
    for (let h = 0; h < heads; h++) {
      const o = r * heads * headDim + h * headDim;
      for (let i = 0; i < half; i++) {
        const c = tables.cos[p + i] as number;
        const s = sgn * (tables.sin[p + i] as number);
        const x1 = x[o + i] as number;
        const x2 = x[o + i + half] as number;
        x[o + i] = x1 * c - x2 * s;
        x[o + i + half] = x2 * c + x1 * s;
      }
    }
  }
}

/**
 * applyRope for the rows of a training batch [batch·seq, heads·hd]: row r sits at position
 * r mod seq, or (r mod seq) − segStart[r] in a packed batch (positions restart with each
 * example). Arena tensors go to the wasm kernel, shared between the threads.
 */
export function applyRopeRows(
  x: FArray,
  rows: number,
  heads: number,
  headDim: number,
  tables: RopeTables,
  seq: number,
  segStart: Int32Array | null,
  inverse = false,
): void {
  const k = kernelForArena(x);
  if (k && (!segStart || isArenaView(segStart))) {
    tables.f32 ??= { cos: Float32Array.from(tables.cos), sin: Float32Array.from(tables.sin) };
    const [cos, sin] = copyAllToScratch([tables.f32.cos, tables.f32.sin]) as [number, number];
    const { i32 } = taskArgs();
    i32[0] = x.byteOffset;
    i32[1] = heads;
    i32[2] = headDim;
    i32[3] = cos;
    i32[4] = sin;
    i32[5] = seq;
    i32[6] = segStart ? segStart.byteOffset : 0;
    i32[7] = inverse ? 1 : 0;
    runTask(k, OP.rope, rows, chunkFor(rows, 1), rows * heads * headDim * 3);
    return;
  }
  const posOf = segStart ? (r: number) => (r % seq) - (segStart[r] as number) : (r: number) => r % seq;
  applyRope(x, rows, heads, headDim, tables, posOf, inverse);
}
