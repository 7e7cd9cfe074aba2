import { allocLike, type FArray } from "../../kernels/float-array.ts";

/**
 * The teacher's distribution over the same positions as the student's logits: either its full
 * logits (a local teacher run beside the student) or its top-k log-probabilities (an endpoint's
 * `logprobs`, or a stored "teacher logits" artifact). Rows whose target is < 0 are not counted.
 */
export type TeacherDistribution =
  | { kind: "logits"; logits: FArray }
  | { kind: "topk"; k: number; ids: Int32Array; logprobs: Float32Array | Float64Array };

export interface DistillLossOptions {
  /**
   * Generalised JSD weight as TRL's GKDTrainer defines it: 0 = forward KL(teacher‖student),
   * 1 = reverse KL(student‖teacher), between = β·KL(p‖m) + (1−β)·KL(q‖m), m = β·p + (1−β)·q.
   */
  beta: number;
  /** both distributions are softened by T; the loss is scaled by T² so gradients keep their size */
  temperature: number;
}

export interface DistillLossResult {
  /** Σ over counted rows of T²·divergence */
  lossSum: number;
  count: number;
  /** counted rows where the student's and the teacher's most likely token agree */
  agreeCount: number;
  /** ∂(gradScale·lossSum)/∂logits, or null */
  dlogits: FArray | null;
}

const TINY = 1e-30;

/**
 * One divergence over "buckets": with full logits every token is a bucket; with top-k the kept
 * tokens are buckets and the rest of the vocabulary is one tail bucket (the teacher's tail mass is
 * 1 − Σ its kept probabilities), so nothing is renormalised away. Given bucket probabilities of
 * the teacher (P) and the student (Q), returns the divergence and g = ∂L/∂Q per bucket; the
 * caller chains g through Q = bucket-sum of softmax(z/T).
 *
 * ∂L/∂Q: forward KL −P/Q; reverse KL log Q − log P + 1; JSD (1−β)(log Q − log m).
 */
function bucketDivergence(
  P: Float64Array,
  Q: Float64Array,
  n: number,
  beta: number,
  g: Float64Array,
): number {
  let loss = 0;
  if (beta === 0) {
    for (let b = 0; b < n; b++) {
      const p = P[b] as number;
      const q = Math.max(Q[b] as number, TINY);
      if (p > 0) loss += p * (Math.log(p) - Math.log(q));
      g[b] = -p / q;
    }
  } else if (beta === 1) {
    for (let b = 0; b < n; b++) {
      const q = Q[b] as number;
      const lq = Math.log(Math.max(q, TINY));
      const lp = Math.log(Math.max(P[b] as number, TINY));
      if (q > 0) loss += q * (lq - lp);
      g[b] = lq - lp + 1;
    }
  } else {
    for (let b = 0; b < n; b++) {
      const p = P[b] as number;
      const q = Q[b] as number;
      const m = Math.max(beta * p + (1 - beta) * q, TINY);
      const lm = Math.log(m);
      if (p > 0) loss += beta * p * (Math.log(p) - lm);
      if (q > 0) loss += (1 - beta) * q * (Math.log(q) - lm);
      g[b] = (1 - beta) * (Math.log(Math.max(q, TINY)) - lm);
    }
  }
  return loss;
}

function softmaxRow(src: ArrayLike<number>, o: number, n: number, invT: number, out: Float64Array): number {
  let max = Number.NEGATIVE_INFINITY;
  let arg = 0;
  for (let j = 0; j < n; j++) {
    const v = src[o + j] as number;
    if (v > max) {
      max = v;
      arg = j;
    }
  }
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = Math.exp(((src[o + j] as number) - max) * invT);
    out[j] = e;
    sum += e;
  }
  for (let j = 0; j < n; j++) out[j] = (out[j] as number) / sum;
  return arg;
}

/**
 * Token-level distillation loss of the student's logits against the teacher's distribution, with
 * its gradient (float64 inside; the result has the logits' precision). Only rows whose target is
 * ≥ 0 count, as in cross-entropy, so the same batches serve both losses.
 */
export function distillLoss(
  logits: FArray,
  teacher: TeacherDistribution,
  targets: Int32Array,
  rows: number,
  vocab: number,
  opts: DistillLossOptions,
  gradScale: number,
  computeGrad: boolean,
): DistillLossResult {
  const { beta, temperature: T } = opts;
  if (!(beta >= 0 && beta <= 1)) throw new RangeError(`beta must be in [0, 1], got ${beta}`);
  if (!(T > 0)) throw new RangeError(`temperature must be > 0, got ${T}`);
  const invT = 1 / T;
  const scale = T * T;
  const dlogits = computeGrad ? allocLike(logits, rows * vocab) : null;
  if (dlogits) dlogits.fill(0);
  const q = new Float64Array(vocab);
  const k = teacher.kind === "topk" ? teacher.k : vocab;
  const nb = teacher.kind === "topk" ? k + 1 : vocab;
  const P = new Float64Array(nb);
  const Q = new Float64Array(nb);
  const g = new Float64Array(nb);
  const tp = teacher.kind === "logits" ? new Float64Array(vocab) : null;
  // bucket of each vocabulary entry for the current row (top-k only): kept index or the tail
  const bucketOf = teacher.kind === "topk" ? new Int32Array(vocab) : null;
  let lossSum = 0;
  let count = 0;
  let agreeCount = 0;
  for (let i = 0; i < rows; i++) {
    if ((targets[i] as number) < 0) continue;
    const o = i * vocab;
    const studentArg = softmaxRow(logits, o, vocab, invT, q);
    let teacherArg: number;
    if (teacher.kind === "logits" && tp) {
      teacherArg = softmaxRow(teacher.logits, o, vocab, invT, tp);
      P.set(tp);
      Q.set(q);
    } else if (teacher.kind === "topk" && bucketOf) {
      // tempered teacher buckets: softmax over [l_1 … l_k, log tail] / T
      const ko = i * k;
      let kept = 0;
      teacherArg = teacher.ids[ko] as number;
      let best = Number.NEGATIVE_INFINITY;
      for (let b = 0; b < k; b++) {
        const lp = teacher.logprobs[ko + b] as number;
        kept += Math.exp(lp);
        if (lp > best) {
          best = lp;
          teacherArg = teacher.ids[ko + b] as number;
        }
      }
      const tail = Math.max(1 - kept, 0);
      const logits = new Float64Array(nb);
      for (let b = 0; b < k; b++) logits[b] = teacher.logprobs[ko + b] as number;
      logits[k] = tail > 0 ? Math.log(tail) : Number.NEGATIVE_INFINITY;
      softmaxRow(logits, 0, nb, invT, P);
      bucketOf.fill(k);
      let qKept = 0;
      for (let b = 0; b < k; b++) {
        const id = teacher.ids[ko + b] as number;
        bucketOf[id] = b;
        Q[b] = q[id] as number;
        qKept += q[id] as number;
      }
      Q[k] = Math.max(1 - qKept, 0);
    } else {
      throw new Error("unreachable");
    }
    if (studentArg === teacherArg) agreeCount++;
    lossSum += scale * bucketDivergence(P, Q, nb, beta, g);
    count++;
    if (dlogits) {
      // ∂L/∂z_j = (1/T)·q_j·(g_{b(j)} − Σ_i q_i·g_{b(i)}), times T² and the step's scale
      let mean = 0;
      for (let j = 0; j < vocab; j++)
        mean += (q[j] as number) * (g[bucketOf ? (bucketOf[j] as number) : j] as number);
      const c = gradScale * scale * invT;
      for (let j = 0; j < vocab; j++) {
        const gj = g[bucketOf ? (bucketOf[j] as number) : j] as number;
        dlogits[o + j] = c * (q[j] as number) * (gj - mean);
      }
    }
  }
  return { lossSum, count, agreeCount, dlogits };
}
