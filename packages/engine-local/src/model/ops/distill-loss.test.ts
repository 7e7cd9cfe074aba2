import { describe, expect, it } from "vitest";
import { Rng } from "../../kernels/rng.ts";
import { distillLoss, type TeacherDistribution } from "./distill-loss.ts";

const rows = 3;
const vocab = 7;

function randomLogits(seed: number, scale = 2): Float64Array {
  const rng = Rng.fromSeed(seed, 0);
  const a = new Float64Array(rows * vocab);
  for (let i = 0; i < a.length; i++) a[i] = (rng.next() * 2 - 1) * scale;
  return a;
}

function logSoftmaxRow(a: Float64Array, o: number): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < vocab; j++) max = Math.max(max, a[o + j] as number);
  let s = 0;
  for (let j = 0; j < vocab; j++) s += Math.exp((a[o + j] as number) - max);
  return Array.from({ length: vocab }, (_, j) => (a[o + j] as number) - max - Math.log(s));
}

/** top-k log-probabilities of each row of `teacherLogits` at temperature 1 */
function topK(teacherLogits: Float64Array, k: number): TeacherDistribution {
  const ids = new Int32Array(rows * k);
  const logprobs = new Float64Array(rows * k);
  for (let i = 0; i < rows; i++) {
    const lp = logSoftmaxRow(teacherLogits, i * vocab);
    const order = lp.map((v, j) => [v, j] as const).sort((a, b) => b[0] - a[0]);
    for (let b = 0; b < k; b++) {
      ids[i * k + b] = order[b]![1];
      logprobs[i * k + b] = order[b]![0];
    }
  }
  return { kind: "topk", k, ids, logprobs };
}

const targets = new Int32Array([1, -100, 4]);

function finiteDifferenceCheck(teacher: TeacherDistribution, beta: number, temperature: number) {
  const z = randomLogits(11);
  const opts = { beta, temperature };
  const { dlogits } = distillLoss(z, teacher, targets, rows, vocab, opts, 0.5, true);
  const h = 1e-6;
  let worst = 0;
  for (let i = 0; i < z.length; i++) {
    const plus = Float64Array.from(z);
    const minus = Float64Array.from(z);
    plus[i] = (plus[i] as number) + h;
    minus[i] = (minus[i] as number) - h;
    const lp = distillLoss(plus, teacher, targets, rows, vocab, opts, 0, false).lossSum;
    const lm = distillLoss(minus, teacher, targets, rows, vocab, opts, 0, false).lossSum;
    const numeric = (0.5 * (lp - lm)) / (2 * h);
    worst = Math.max(worst, Math.abs(numeric - (dlogits![i] as number)));
  }
  return worst;
}

describe("distillation loss", () => {
  const teacherLogits = randomLogits(5, 3);
  const full: TeacherDistribution = { kind: "logits", logits: teacherLogits };

  it("is zero for identical distributions and positive otherwise, for every beta", () => {
    for (const beta of [0, 0.1, 0.5, 0.9, 1]) {
      const same = distillLoss(teacherLogits, full, targets, rows, vocab, { beta, temperature: 1 }, 1, true);
      expect(Math.abs(same.lossSum)).toBeLessThan(1e-12);
      for (const v of same.dlogits!) expect(Math.abs(v)).toBeLessThan(1e-12);
      expect(same.agreeCount).toBe(2);
      const other = distillLoss(
        randomLogits(9),
        full,
        targets,
        rows,
        vocab,
        { beta, temperature: 1 },
        1,
        false,
      );
      expect(other.lossSum).toBeGreaterThan(0);
      expect(other.count).toBe(2);
    }
  });

  it("beta 0 is forward KL(p‖q) and beta 1 is reverse KL(q‖p), computed independently", () => {
    const z = randomLogits(9);
    let forward = 0;
    let reverse = 0;
    for (const i of [0, 2]) {
      const lp = logSoftmaxRow(teacherLogits, i * vocab);
      const lq = logSoftmaxRow(z, i * vocab);
      for (let j = 0; j < vocab; j++) {
        forward += Math.exp(lp[j]!) * (lp[j]! - lq[j]!);
        reverse += Math.exp(lq[j]!) * (lq[j]! - lp[j]!);
      }
    }
    const f = distillLoss(z, full, targets, rows, vocab, { beta: 0, temperature: 1 }, 1, false);
    const r = distillLoss(z, full, targets, rows, vocab, { beta: 1, temperature: 1 }, 1, false);
    expect(f.lossSum).toBeCloseTo(forward, 12);
    expect(r.lossSum).toBeCloseTo(reverse, 12);
    expect(forward).not.toBeCloseTo(reverse, 3);
    // the JSD is bounded by ln 2 per token whatever the distributions
    const j = distillLoss(z, full, targets, rows, vocab, { beta: 0.5, temperature: 1 }, 1, false);
    expect(j.lossSum).toBeGreaterThan(0);
    expect(j.lossSum).toBeLessThan(2 * Math.log(2));
  });

  it("scales by T² and softens both distributions", () => {
    const z = randomLogits(9);
    const t1 = distillLoss(z, full, targets, rows, vocab, { beta: 0, temperature: 1 }, 1, false).lossSum;
    const t2 = distillLoss(z, full, targets, rows, vocab, { beta: 0, temperature: 2 }, 1, false).lossSum;
    const half = distillLoss(
      z.map((v) => v / 2),
      { kind: "logits", logits: teacherLogits.map((v) => v / 2) },
      targets,
      rows,
      vocab,
      { beta: 0, temperature: 1 },
      1,
      false,
    ).lossSum;
    expect(t2).toBeCloseTo(4 * half, 12);
    expect(t2).not.toBeCloseTo(t1, 3);
  });

  it("gradients match float64 finite differences (full logits, every divergence, T = 1 and 2)", () => {
    for (const beta of [0, 0.3, 1]) {
      for (const temperature of [1, 2]) {
        expect(finiteDifferenceCheck(full, beta, temperature)).toBeLessThan(1e-7);
      }
    }
  });

  it("top-k: a tail bucket holds the rest; k = vocab equals the full distribution", () => {
    const z = randomLogits(9);
    for (const beta of [0, 0.5, 1]) {
      const a = distillLoss(z, full, targets, rows, vocab, { beta, temperature: 1 }, 1, true);
      const b = distillLoss(
        z,
        topK(teacherLogits, vocab),
        targets,
        rows,
        vocab,
        { beta, temperature: 1 },
        1,
        true,
      );
      expect(b.lossSum).toBeCloseTo(a.lossSum, 9);
      for (let i = 0; i < a.dlogits!.length; i++)
        expect(b.dlogits![i]).toBeCloseTo(a.dlogits![i] as number, 9);
    }
    // with k = 3 the student is compared on 3 tokens + 1 tail bucket: less than the full divergence
    const k3 = distillLoss(
      z,
      topK(teacherLogits, 3),
      targets,
      rows,
      vocab,
      { beta: 0, temperature: 1 },
      1,
      false,
    );
    const whole = distillLoss(z, full, targets, rows, vocab, { beta: 0, temperature: 1 }, 1, false);
    expect(k3.lossSum).toBeGreaterThan(0);
    expect(k3.lossSum).toBeLessThanOrEqual(whole.lossSum + 1e-12);
    for (const beta of [0, 0.5, 1]) {
      for (const temperature of [1, 1.5]) {
        expect(finiteDifferenceCheck(topK(teacherLogits, 3), beta, temperature)).toBeLessThan(1e-7);
      }
    }
  });

  it("refuses a beta or a temperature out of range", () => {
    expect(() =>
      distillLoss(teacherLogits, full, targets, rows, vocab, { beta: 1.5, temperature: 1 }, 1, false),
    ).toThrow(/beta/);
    expect(() =>
      distillLoss(teacherLogits, full, targets, rows, vocab, { beta: 0, temperature: 0 }, 1, false),
    ).toThrow(/temperature/);
  });
});
