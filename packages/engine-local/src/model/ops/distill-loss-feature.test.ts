import { describe, expect, it } from "vitest";
import { Rng } from "../../kernels/rng.ts";
import { featureLoss } from "./distill-loss-feature.ts";

const rows = 4;
const targets = new Int32Array([3, -100, 0, 7]);

function random(n: number, seed: number, scale = 1): Float64Array {
  const rng = Rng.fromSeed(seed, 0);
  return Float64Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

describe("feature distillation loss (hidden-state MSE through a projection)", () => {
  const dS = 5;
  const dT = 3;
  const s = random(rows * dS, 1, 2);
  const t = random(rows * dT, 2, 2);
  const W = random(dT * dS, 3, 0.7);
  const b = random(dT, 4, 0.3);
  const scale = 0.4;
  const lossOf = (s2: Float64Array, W2: Float64Array, b2: Float64Array) =>
    featureLoss(s2, t, targets, rows, dS, dT, { weight: W2, bias: b2 }, 0, false).lossSum;

  it("equals the mean squared error of W·s + b against t over the counted rows", () => {
    const r = featureLoss(s, t, targets, rows, dS, dT, { weight: W, bias: b }, 1, false);
    let ref = 0;
    for (const i of [0, 2, 3]) {
      let row = 0;
      for (let j = 0; j < dT; j++) {
        let y = b[j] as number;
        for (let c = 0; c < dS; c++) y += (W[j * dS + c] as number) * (s[i * dS + c] as number);
        row += (y - (t[i * dT + j] as number)) ** 2;
      }
      ref += row / dT;
    }
    expect(r.count).toBe(3);
    expect(r.lossSum).toBeCloseTo(ref, 12);
    // identical states without a projection: zero loss and zero gradient
    const same = featureLoss(t, t, targets, rows, dT, dT, null, 1, true);
    expect(same.lossSum).toBe(0);
    for (const v of same.dstudent as Float64Array) expect(v).toBe(0);
    expect(() => featureLoss(s, t, targets, rows, dS, dT, null, 1, false)).toThrow(/projection is needed/);
  });

  it("gradients for the student's hidden state, the projection's weight and bias match float64 finite differences", () => {
    const wg = new Float64Array(W.length);
    const bg = new Float64Array(b.length);
    const r = featureLoss(
      s,
      t,
      targets,
      rows,
      dS,
      dT,
      { weight: W, bias: b, weightGrad: wg, biasGrad: bg },
      scale,
      true,
    );
    const h = 1e-6;
    const numeric = (arr: Float64Array, i: number, f: () => number) => {
      const v = arr[i] as number;
      arr[i] = v + h;
      const lp = f();
      arr[i] = v - h;
      const lm = f();
      arr[i] = v;
      return (scale * (lp - lm)) / (2 * h);
    };
    const f = () => lossOf(s, W, b);
    let worst = 0;
    for (let i = 0; i < s.length; i++)
      worst = Math.max(worst, Math.abs(numeric(s, i, f) - ((r.dstudent as Float64Array)[i] as number)));
    for (let i = 0; i < W.length; i++)
      worst = Math.max(worst, Math.abs(numeric(W, i, f) - (wg[i] as number)));
    for (let i = 0; i < b.length; i++)
      worst = Math.max(worst, Math.abs(numeric(b, i, f) - (bg[i] as number)));
    expect(worst).toBeLessThan(1e-8);
    // masked rows get no gradient
    for (let c = 0; c < dS; c++) expect((r.dstudent as Float64Array)[1 * dS + c]).toBe(0);
  });

  it("without a projection (equal widths) the gradient is 2/d·(s − t)", () => {
    const s2 = random(rows * dT, 9, 1);
    const r = featureLoss(s2, t, targets, rows, dT, dT, null, 1, true);
    for (const i of [0, 2, 3])
      for (let j = 0; j < dT; j++)
        expect((r.dstudent as Float64Array)[i * dT + j]).toBeCloseTo(
          (2 / dT) * ((s2[i * dT + j] as number) - (t[i * dT + j] as number)),
          12,
        );
  });
});
