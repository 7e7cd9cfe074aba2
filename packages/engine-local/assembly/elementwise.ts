// Elementwise kernels over float32 tensors that live in the step arena (src/kernels/wasm-memory.ts):
// SwiGLU, RMSNorm, residual adds and the softmaxes (exp from simd-math.ts).
import { expScalar, expv, hsum } from "./simd-math";

/** a = g·σ(g)·u and sig = σ(g), n elements (any n). */
export function swigluForward(g: usize, u: usize, a: usize, sig: usize, n: i32): void {
  const one = f32x4.splat(1);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    const gv = v128.load(g + o);
    const s = f32x4.div(one, f32x4.add(one, expv(f32x4.neg(gv))));
    v128.store(sig + o, s);
    v128.store(a + o, f32x4.mul(f32x4.mul(gv, s), v128.load(u + o)));
  }
  for (let i = n4; i < n; i++) {
    const o = (<usize>i) << 2;
    const gi = load<f32>(g + o);
    const s: f32 = 1 / (1 + expScalar(-gi));
    store<f32>(sig + o, s);
    store<f32>(a + o, gi * s * load<f32>(u + o));
  }
}

/** In place: g ← da·u·σ(1 + g(1 − σ)), u ← da·g·σ. */
export function swigluBackward(g: usize, u: usize, sig: usize, da: usize, n: i32): void {
  const one = f32x4.splat(1);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    const gv = v128.load(g + o);
    const s = v128.load(sig + o);
    const d = v128.load(da + o);
    const uv = v128.load(u + o);
    const t = f32x4.add(one, f32x4.mul(gv, f32x4.sub(one, s)));
    v128.store(g + o, f32x4.mul(f32x4.mul(f32x4.mul(d, uv), s), t));
    v128.store(u + o, f32x4.mul(f32x4.mul(d, gv), s));
  }
  for (let i = n4; i < n; i++) {
    const o = (<usize>i) << 2;
    const gi = load<f32>(g + o);
    const s = load<f32>(sig + o);
    const d = load<f32>(da + o);
    const ui = load<f32>(u + o);
    store<f32>(g + o, d * ui * s * (1 + gi * (1 - s)));
    store<f32>(u + o, d * gi * s);
  }
}

/**
 * For one row of logits: writes exp(x − max) to out and returns Σ exp(x − max) (max is the
 * caller's). Cross-entropy turns these into softmax probabilities and the log-sum-exp.
 */
export function expShiftedRow(x: usize, out: usize, n: i32, max: f32): f32 {
  const m = f32x4.splat(max);
  let acc = f32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    const e = expv(f32x4.sub(v128.load(x + o), m));
    v128.store(out + o, e);
    acc = f32x4.add(acc, e);
  }
  let sum: f32 =
    f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (let i = n4; i < n; i++) {
    const o = (<usize>i) << 2;
    const e = expScalar(load<f32>(x + o) - max);
    store<f32>(out + o, e);
    sum += e;
  }
  return sum;
}

/** y = x·r·w per row, r = 1/√(mean(x²) + eps) stored in rinv; d must be a multiple of 4. */
export function rmsnormForward(x: usize, w: usize, y: usize, rinv: usize, rows: i32, d: i32, eps: f32): void {
  const rowBytes = (<usize>d) << 2;
  for (let i = 0; i < rows; i++) {
    const xi = x + <usize>i * rowBytes;
    const yi = y + <usize>i * rowBytes;
    let acc = f32x4.splat(0);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const v = v128.load(xi + o);
      acc = f32x4.add(acc, f32x4.mul(v, v));
    }
    const r: f32 = 1 / Mathf.sqrt(hsum(acc) / <f32>d + eps);
    store<f32>(rinv + ((<usize>i) << 2), r);
    const rv = f32x4.splat(r);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      v128.store(yi + o, f32x4.mul(f32x4.mul(v128.load(xi + o), rv), v128.load(w + o)));
    }
  }
}

/** dx += r·(g − x̂·mean(g·x̂)) with g = dy·w, x̂ = x·r (no weight gradient); d a multiple of 4. */
export function rmsnormBackward(x: usize, w: usize, rinv: usize, dy: usize, dx: usize, rows: i32, d: i32): void {
  const rowBytes = (<usize>d) << 2;
  for (let i = 0; i < rows; i++) {
    const o0 = <usize>i * rowBytes;
    const r = load<f32>(rinv + ((<usize>i) << 2));
    const rv = f32x4.splat(r);
    let acc = f32x4.splat(0);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const g = f32x4.mul(v128.load(dy + o0 + o), v128.load(w + o));
      acc = f32x4.add(acc, f32x4.mul(g, f32x4.mul(v128.load(x + o0 + o), rv)));
    }
    const mean = f32x4.splat(hsum(acc) / <f32>d);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const xhat = f32x4.mul(v128.load(x + o0 + o), rv);
      const g = f32x4.mul(v128.load(dy + o0 + o), v128.load(w + o));
      const upd = f32x4.mul(rv, f32x4.sub(g, f32x4.mul(xhat, mean)));
      v128.store(dx + o0 + o, f32x4.add(v128.load(dx + o0 + o), upd));
    }
  }
}

/**
 * rmsnormBackward that also accumulates the weight gradient: dw += Σ_rows dy·x̂ (full
 * fine-tuning). One thread: the rows all add into the same dw.
 */
export function rmsnormBackwardWithWeightGrad(
  x: usize, w: usize, rinv: usize, dy: usize, dx: usize, dw: usize, rows: i32, d: i32,
): void {
  const rowBytes = (<usize>d) << 2;
  for (let i = 0; i < rows; i++) {
    const o0 = <usize>i * rowBytes;
    const rv = f32x4.splat(load<f32>(rinv + ((<usize>i) << 2)));
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const xhat = f32x4.mul(v128.load(x + o0 + o), rv);
      v128.store(dw + o, f32x4.add(v128.load(dw + o), f32x4.mul(v128.load(dy + o0 + o), xhat)));
    }
  }
  rmsnormBackward(x, w, rinv, dy, dx, rows, d);
}

/** a += b, n elements. */
export function addInPlace(a: usize, b: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(a + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (let i = n4; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(a + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/** In place: dp ← p·(dp − Σ_j dp·p)·scale on the causal triangle, 0 above it. */
export function causalSoftmaxBackward(probs: usize, dp: usize, T: i32, scale: f32): void {
  const rowBytes = (<usize>T) << 2;
  const sv = f32x4.splat(scale);
  for (let i = 0; i < T; i++) {
    const p = probs + <usize>i * rowBytes;
    const d = dp + <usize>i * rowBytes;
    const n = i + 1;
    const n4 = n & ~3;
    let acc = f32x4.splat(0);
    for (let j = 0; j < n4; j += 4) {
      const o = (<usize>j) << 2;
      acc = f32x4.add(acc, f32x4.mul(v128.load(d + o), v128.load(p + o)));
    }
    let dot = hsum(acc);
    for (let j = n4; j < n; j++) {
      const o = (<usize>j) << 2;
      dot += load<f32>(d + o) * load<f32>(p + o);
    }
    const dv = f32x4.splat(dot);
    for (let j = 0; j < n4; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(d + o, f32x4.mul(f32x4.mul(v128.load(p + o), f32x4.sub(v128.load(d + o), dv)), sv));
    }
    for (let j = n4; j < n; j++) {
      const o = (<usize>j) << 2;
      store<f32>(d + o, load<f32>(p + o) * (load<f32>(d + o) - dot) * scale);
    }
    for (let j = n; j < T; j++) store<f32>(d + ((<usize>j) << 2), 0);
  }
}
