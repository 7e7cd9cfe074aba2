import { allocLike, type FArray } from "../../kernels/float-array.ts";

/**
 * Feature (hidden-state) distillation loss: for every counted row (target ≥ 0),
 *
 *   L_row = (1/dT) · Σ_j (y_j − t_j)²,   y = W·s + b  (W [dT, dS], b [dT]),
 *
 * the mean squared error between the student's hidden state s (width dS), projected to the
 * teacher's width, and the teacher's hidden state t (width dT). Without a projection (equal
 * widths) y = s. The backward, with r = y − t and g = gradScale·(2/dT)·r:
 *
 *   ∂L/∂s = Wᵀ·g,   ∂L/∂W += g·sᵀ,   ∂L/∂b += g.
 *
 * Float64 inside; the student gradient has the hidden state's precision; the projection's
 * gradients are accumulated into the given arrays.
 */
export interface FeatureProjectionWeights {
  /** [dT, dS], row-major (torch.nn.Linear's weight layout) */
  weight: ArrayLike<number>;
  /** [dT] */
  bias: ArrayLike<number>;
  /** accumulated into when given (the projection trains) */
  weightGrad?: { length: number; [i: number]: number } | null;
  biasGrad?: { length: number; [i: number]: number } | null;
}

export interface FeatureLossResult {
  /** Σ over counted rows of the per-row mean squared error */
  lossSum: number;
  count: number;
  /** ∂(gradScale·lossSum)/∂student hidden [rows, dS], or null */
  dstudent: FArray | null;
}

export function featureLoss(
  student: FArray,
  teacher: ArrayLike<number>,
  targets: Int32Array,
  rows: number,
  dS: number,
  dT: number,
  proj: FeatureProjectionWeights | null,
  gradScale: number,
  computeGrad: boolean,
): FeatureLossResult {
  if (!proj && dS !== dT)
    throw new RangeError(`student width ${dS} and teacher width ${dT} differ: a projection is needed`);
  const ds = computeGrad ? allocLike(student, rows * dS) : null;
  if (ds) ds.fill(0);
  const y = new Float64Array(dT);
  const g = new Float64Array(dT);
  const invD = 1 / dT;
  let lossSum = 0;
  let count = 0;
  for (let i = 0; i < rows; i++) {
    if ((targets[i] as number) < 0) continue;
    const so = i * dS;
    const to = i * dT;
    if (proj) {
      const W = proj.weight;
      for (let j = 0; j < dT; j++) {
        let acc = proj.bias[j] as number;
        const wo = j * dS;
        for (let c = 0; c < dS; c++) acc += (W[wo + c] as number) * (student[so + c] as number);
        y[j] = acc;
      }
    } else for (let j = 0; j < dT; j++) y[j] = student[so + j] as number;
    let row = 0;
    for (let j = 0; j < dT; j++) {
      const r = (y[j] as number) - (teacher[to + j] as number);
      row += r * r;
      g[j] = gradScale * 2 * invD * r;
    }
    lossSum += row * invD;
    count++;
    if (!computeGrad) continue;
    if (proj) {
      const W = proj.weight;
      const wg = proj.weightGrad;
      const bg = proj.biasGrad;
      for (let j = 0; j < dT; j++) {
        const gj = g[j] as number;
        if (gj === 0) continue;
        const wo = j * dS;
        if (ds) for (let c = 0; c < dS; c++) ds[so + c] = (ds[so + c] as number) + (W[wo + c] as number) * gj;
        if (wg)
          for (let c = 0; c < dS; c++) wg[wo + c] = (wg[wo + c] as number) + gj * (student[so + c] as number);
        if (bg) bg[j] = (bg[j] as number) + gj;
      }
    } else if (ds) for (let j = 0; j < dT; j++) ds[so + j] = g[j] as number;
  }
  return { lossSum, count, dstudent: ds };
}
