import { describe, expect, it } from "vitest";
import { attentionBackward, attentionForward } from "../model/ops/attention.ts";
import { crossEntropy } from "../model/ops/cross-entropy.ts";
import { rmsnormBackward, rmsnormForward } from "../model/ops/rmsnorm.ts";
import { swigluBackwardInPlace, swigluForward } from "../model/ops/swiglu.ts";
import { allocLike } from "./float-array.ts";
import { setMatmulKernel } from "./matmul.ts";
import { getNativeVariants, loadNativeKernel } from "./native-kernel.ts";
import { setMatmulThreads } from "./parallel.ts";
import { Rng } from "./rng.ts";
import { allocArenaI32, isArenaView, runInArena } from "./wasm-memory.ts";

function randomIn(n: number, scale: number, rng: Rng, arena: boolean): Float32Array {
  const a = (arena ? allocLike(new Float32Array(0), n) : new Float32Array(n)) as Float32Array;
  for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * scale;
  return a;
}

describe("wasm elementwise kernels (step arena) against the JS loops", () => {
  // the native path (the addon's ops.cc, when products run natively) and WebAssembly forced, on
  // one thread and two (4 chunks above 32K elements), against float64 JS loops on the same values
  const swigluPaths = [
    "wasm",
    ...(loadNativeKernel()
      ? getNativeVariants()
          .filter((v) => v !== "scalar")
          .map((v) => `native-${v}`)
      : []),
  ];
  for (const kernel of swigluPaths)
    for (const threads of [1, 2])
      it(`SwiGLU forward and backward, ${kernel}, ${threads} thread(s): ±90 where exp saturates, ragged tails`, () => {
        setMatmulKernel(kernel);
        setMatmulThreads(threads);
        try {
          for (const [scale, n] of [
            [3, 1027],
            [90, 1027],
            [5, 70001],
          ] as const) {
            const draw = (arena: boolean) => {
              const rng = Rng.fromSeed(scale + n);
              return [
                randomIn(n, scale, rng, arena),
                randomIn(n, 2, rng, arena),
                randomIn(n, 1, rng, arena),
              ] as const;
            };
            const [g32, u32, da32] = draw(false);
            const js = (() => {
              const g = Float64Array.from(g32);
              const u = Float64Array.from(u32);
              const { a, sig } = swigluForward(g, u);
              const { dg, du } = swigluBackwardInPlace(g, u, sig, Float64Array.from(da32));
              return [Array.from(a), Array.from(dg), Array.from(du)];
            })();
            const f32 = runInArena(() => {
              const [g, u, da] = draw(true);
              expect(isArenaView(g)).toBe(true);
              const { a, sig } = swigluForward(g, u);
              const { dg, du } = swigluBackwardInPlace(g, u, sig, da);
              return [Array.from(a), Array.from(dg), Array.from(du)];
            });
            let worst = 0;
            js.forEach((arr, k) => {
              for (let i = 0; i < arr.length; i++) {
                const v = arr[i] as number;
                worst = Math.max(worst, Math.abs((f32[k]?.[i] as number) - v) / Math.max(1, Math.abs(v)));
              }
            });
            expect(worst).toBeLessThanOrEqual(1e-5);
          }
        } finally {
          setMatmulKernel("auto");
          setMatmulThreads(1);
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

  // every path against float64 JS loops; d = 24 leaves a tail after 16-wide sums, d = 130 is not
  // a multiple of 4 (wasm falls back to JS there), rows = 300 splits across the threads
  for (const kernel of swigluPaths)
    for (const trainable of [false, true])
      it(`RMSNorm forward and backward, ${kernel}, ${trainable ? "trainable" : "frozen"} weight, 1 and 2 threads`, () => {
        for (const [rows, d] of [
          [6, 24],
          [300, 130],
        ] as const) {
          const run = (mode: "float64" | "arena") => {
            const rng = Rng.fromSeed(8);
            const arena = mode === "arena";
            const draw = (n: number, scale: number, inArena: boolean) => {
              const a = randomIn(n, scale, rng, inArena && arena);
              return arena ? a : Float64Array.from(a);
            };
            const x = draw(rows * d, 3, true);
            const w = draw(d, 1, false);
            const dy = draw(rows * d, 1, true);
            const dx = draw(rows * d, 1, true);
            const dw = trainable ? draw(d, 1, false) : null;
            const { y, rinv } = rmsnormForward(x, w, rows, d, 1e-5);
            rmsnormBackward(x, w, rinv, dy, dx, dw, rows, d);
            return [...Array.from(y), ...Array.from(dx), ...Array.from(dw ?? [])];
          };
          const js = run("float64");
          setMatmulKernel(kernel);
          try {
            const f32 = runInArena(() => run("arena"));
            expect(f32.length).toBe(js.length);
            let worst = 0;
            for (let i = 0; i < js.length; i++)
              worst = Math.max(
                worst,
                Math.abs((f32[i] as number) - (js[i] as number)) / Math.max(1, Math.abs(js[i] as number)),
              );
            expect(worst).toBeLessThan(2e-5);
            setMatmulThreads(2);
            expect(runInArena(() => run("arena"))).toEqual(f32);
          } finally {
            setMatmulThreads(1);
            setMatmulKernel("auto");
          }
        }
      });

  const attentionCases = [
    { name: "ragged (T=7, hd=8, GQA 4/2)", shape: { batch: 2, seq: 7, heads: 4, kvHeads: 2, headDim: 8 } },
    {
      name: "bench-sized (T=64, hd=32, 4 heads)",
      shape: { batch: 3, seq: 64, heads: 4, kvHeads: 4, headDim: 32 },
    },
    {
      name: "odd length (T=13, hd=16, GQA 6/2)",
      shape: { batch: 2, seq: 13, heads: 6, kvHeads: 2, headDim: 16 },
    },
    // crosses the native path's 96-row causal blocks (and leaves a 1-row block: T = 193)
    {
      name: "long (T=193, hd=16, GQA 4/2)",
      shape: { batch: 1, seq: 193, heads: 4, kvHeads: 2, headDim: 16 },
    },
  ];
  for (const kernel of swigluPaths)
    for (const { name, shape } of attentionCases) {
      for (const packed of [false, true]) {
        it(`causal attention forward and backward, ${kernel}, ${name}${packed ? ", packed segments" : ""}`, () => {
          const { batch, seq, heads, kvHeads, headDim } = shape;
          const rows = batch * seq;
          // packed: every sequence splits into examples of 1..5 positions
          const segRng = Rng.fromSeed(3);
          const seg: Int32Array<ArrayBufferLike> | null = packed ? new Int32Array(rows) : null;
          if (seg) {
            for (let b = 0; b < batch; b++) {
              let start = 0;
              while (start < seq) {
                const n = Math.min(seq - start, 1 + segRng.int(5));
                seg.fill(start, b * seq + start, b * seq + start + n);
                start += n;
              }
            }
          }
          // float64: the JS loops (the reference); arena: float32 on the kernel under test
          const run = (mode: "float64" | "arena") => {
            const rng = Rng.fromSeed(12);
            const arena = mode === "arena";
            const draw = (n: number, scale: number) => {
              const a = randomIn(n, scale, rng, arena);
              return arena ? a : Float64Array.from(a);
            };
            const q = draw(rows * heads * headDim, 2);
            const k = draw(rows * kvHeads * headDim, 2);
            const v = draw(rows * kvHeads * headDim, 2);
            const dout = draw(rows * heads * headDim, 1);
            let segStart = seg;
            if (seg && arena) {
              segStart = allocArenaI32(rows);
              segStart?.set(seg);
            }
            const s = { ...shape, segStart };
            const { out, probs } = attentionForward(q, k, v, s);
            const { dq, dk, dv } = attentionBackward(q, k, v, probs, dout, s);
            return [out, dq, dk, dv].flatMap((a) => Array.from(a));
          };
          const js = run("float64");
          setMatmulKernel(kernel);
          try {
            const f32 = runInArena(() => run("arena"));
            let worst = 0;
            for (let i = 0; i < js.length; i++)
              worst = Math.max(
                worst,
                Math.abs((f32[i] as number) - (js[i] as number)) / Math.max(1, Math.abs(js[i] as number)),
              );
            expect(worst).toBeLessThan(1e-5);
            // two threads split the (batch, kv head) pairs: the same bits as one
            setMatmulThreads(2);
            expect(runInArena(() => run("arena"))).toEqual(f32);
          } finally {
            setMatmulThreads(1);
            setMatmulKernel("auto");
          }
        });
      }
    }
});
