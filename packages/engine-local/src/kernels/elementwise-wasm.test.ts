import { describe, expect, it } from "vitest";
import { attentionBackward, attentionForward } from "../model/ops/attention.ts";
import { crossEntropy } from "../model/ops/cross-entropy.ts";
import { rmsnormBackward, rmsnormForward } from "../model/ops/rmsnorm.ts";
import { swigluBackwardInPlace, swigluForward } from "../model/ops/swiglu.ts";
import { allocLike } from "./float-array.ts";
import { Rng } from "./rng.ts";
import { isArenaView, runInArena } from "./wasm-memory.ts";

function randomIn(n: number, scale: number, rng: Rng, arena: boolean): Float32Array {
  const a = (arena ? allocLike(new Float32Array(0), n) : new Float32Array(n)) as Float32Array;
  for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * scale;
  return a;
}

describe("wasm elementwise kernels (step arena) against the JS loops", () => {
  it("SwiGLU forward and backward, including ±90 where exp saturates and a ragged tail", () => {
    for (const scale of [3, 90]) {
      const n = 1027;
      const js = (() => {
        const rng = Rng.fromSeed(scale);
        const g = randomIn(n, scale, rng, false);
        const u = randomIn(n, 2, rng, false);
        const da = randomIn(n, 1, rng, false);
        const { a, sig } = swigluForward(g, u);
        const { dg, du } = swigluBackwardInPlace(g, u, sig, da);
        return [Array.from(a), Array.from(dg), Array.from(du)];
      })();
      const wasm = runInArena(() => {
        const rng = Rng.fromSeed(scale);
        const g = randomIn(n, scale, rng, true);
        const u = randomIn(n, 2, rng, true);
        const da = randomIn(n, 1, rng, true);
        expect(isArenaView(g)).toBe(true);
        const { a, sig } = swigluForward(g, u);
        const { dg, du } = swigluBackwardInPlace(g, u, sig, da);
        return [Array.from(a), Array.from(dg), Array.from(du)];
      });
      js.forEach((arr, k) => {
        for (let i = 0; i < arr.length; i++) {
          const v = arr[i] as number;
          expect(Math.abs((wasm[k]?.[i] as number) - v)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v)));
        }
      });
    }
  });

  it("cross-entropy loss and gradient", () => {
    const rows = 5;
    const vocab = 37;
    const targets = Int32Array.from([3, -1, 36, 0, 11]);
    const run = (arena: boolean) => {
      const rng = Rng.fromSeed(4);
      const logits = randomIn(rows * vocab, 8, rng, arena);
      const r = crossEntropy(logits, targets, rows, vocab, 0.25, true);
      return { loss: r.lossSum, grad: Array.from(r.dlogits ?? []) };
    };
    const js = run(false);
    const wasm = runInArena(() => run(true));
    expect(wasm.loss).toBeCloseTo(js.loss, 4);
    js.grad.forEach((v, i) => {
      expect(Math.abs((wasm.grad[i] as number) - v)).toBeLessThan(1e-6);
    });
  });

  it("RMSNorm forward and backward (frozen weight)", () => {
    const rows = 6;
    const d = 24;
    const run = (arena: boolean) => {
      const rng = Rng.fromSeed(8);
      const x = randomIn(rows * d, 3, rng, arena);
      const w = randomIn(d, 1, rng, false);
      const dy = randomIn(rows * d, 1, rng, arena);
      const dx = randomIn(rows * d, 1, rng, arena);
      const { y, rinv } = rmsnormForward(x, w, rows, d, 1e-5);
      rmsnormBackward(x, w, rinv, dy, dx, null, rows, d);
      return [...Array.from(y), ...Array.from(dx)];
    };
    const js = run(false);
    const wasm = runInArena(() => run(true));
    for (let i = 0; i < js.length; i++) {
      expect(Math.abs((wasm[i] as number) - (js[i] as number))).toBeLessThan(
        1e-5 * Math.max(1, Math.abs(js[i] as number)),
      );
    }
  });

  it("causal attention softmax forward and backward", () => {
    const shape = { batch: 2, seq: 7, heads: 4, kvHeads: 2, headDim: 8 };
    const rows = shape.batch * shape.seq;
    const run = (arena: boolean) => {
      const rng = Rng.fromSeed(12);
      const q = randomIn(rows * 32, 2, rng, arena);
      const k = randomIn(rows * 16, 2, rng, arena);
      const v = randomIn(rows * 16, 2, rng, arena);
      const dout = randomIn(rows * 32, 1, rng, arena);
      const { out, probs } = attentionForward(q, k, v, shape);
      const { dq, dk, dv } = attentionBackward(q, k, v, probs, dout, shape);
      return [out, dq, dk, dv].flatMap((a) => Array.from(a));
    };
    const js = run(false);
    const wasm = runInArena(() => run(true));
    for (let i = 0; i < js.length; i++) {
      expect(Math.abs((wasm[i] as number) - (js[i] as number))).toBeLessThan(
        1e-5 * Math.max(1, Math.abs(js[i] as number)),
      );
    }
  });
});
