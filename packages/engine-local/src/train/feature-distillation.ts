import { type FeatureDistillation, featureLayerIssues } from "@distillery/core";
import { EngineError } from "../engine-error.ts";
import { allocLike, type DType, type FArray } from "../kernels/float-array.ts";
import { Rng } from "../kernels/rng.ts";
import { type ForwardTape, tapeHiddenState } from "../model/llama-forward.ts";
import { featureLoss } from "../model/ops/distill-loss-feature.ts";
import { createParam, type Param, setTrainable } from "../model/param.ts";

/**
 * Feature distillation: the student's hidden states at chosen layers are matched to the teacher's
 * (MSE per counted token, averaged over the layer pairs, times `weight`). Where the widths differ
 * a learned linear projection student → teacher width sits between them. Its parameters train
 * with the student's optimizer and are saved in checkpoints (for resume) but never in the
 * adapter or the merged model: the run's artifacts are written from the student alone.
 */
export interface FeaturePair {
  student: number;
  teacher: number;
  /** null when the widths are equal (the student's state is compared as it is) */
  proj: { weight: Param; bias: Param } | null;
}

export interface FeatureDistill {
  pairs: FeaturePair[];
  weight: number;
  studentWidth: number;
  teacherWidth: number;
  /** the projections' parameters (empty when no pair needs one) */
  params: Param[];
}

/** Refuses layer indexes past either model's depth, naming the field. */
export function checkFeatureLayers(
  feature: FeatureDistillation,
  layers: { student: number; teacher: number },
): void {
  const issue = featureLayerIssues(feature, layers)[0];
  if (issue)
    throw new EngineError("config_invalid", issue.message, {
      field: issue.path.join("."),
      hint: "hidden states are counted as transformers' output_hidden_states: 0 = embeddings, i = output of decoder layer i",
    });
}

/**
 * The pairs and their projections, initialised as torch.nn.Linear does (uniform ±1/√dS for the
 * weight and the bias) from the run's seed, so a run is reproducible.
 */
export function createFeatureDistill(
  feature: FeatureDistillation,
  widths: { student: number; teacher: number },
  seed: number,
  dtype: DType = "f32",
): FeatureDistill {
  const { student: dS, teacher: dT } = widths;
  const params: Param[] = [];
  const pairs = feature.layers.map((pair, i): FeaturePair => {
    if (dS === dT) return { ...pair, proj: null };
    const rng = Rng.fromSeed(seed, 3_000_000 + i);
    const bound = 1 / Math.sqrt(dS);
    const weight = createParam(
      `distillation.feature.${i}.proj.weight`,
      [dT, dS],
      dtype,
      Float64Array.from({ length: dT * dS }, () => (rng.next() * 2 - 1) * bound),
    );
    const bias = createParam(
      `distillation.feature.${i}.proj.bias`,
      [dT],
      dtype,
      Float64Array.from({ length: dT }, () => (rng.next() * 2 - 1) * bound),
    );
    setTrainable(weight, true);
    setTrainable(bias, true);
    params.push(weight, bias);
    return { ...pair, proj: { weight, bias } };
  });
  return { pairs, weight: feature.weight, studentWidth: dS, teacherWidth: dT, params };
}

/**
 * The feature loss of one micro-batch: Σ over counted rows of mean-over-pairs MSE (lossSum, before
 * `weight`), the gradients on the student's hidden states for backwardTrain (already scaled by
 * weight · gradScale / pairs), and the projections' gradients accumulated into their Params.
 */
export function featureStepLoss(
  fd: FeatureDistill,
  student: ForwardTape,
  teacher: ForwardTape,
  targets: Int32Array,
  gradScale: number,
): { lossSum: number; hiddenGrads: Map<number, FArray> } {
  const rows = student.batch * student.seq;
  const n = fd.pairs.length;
  const scale = (gradScale * fd.weight) / n;
  const hiddenGrads = new Map<number, FArray>();
  let lossSum = 0;
  for (const pair of fd.pairs) {
    const s = tapeHiddenState(student, pair.student);
    const t = tapeHiddenState(teacher, pair.teacher);
    const r = featureLoss(
      s,
      t,
      targets,
      rows,
      fd.studentWidth,
      fd.teacherWidth,
      pair.proj
        ? {
            weight: pair.proj.weight.data,
            bias: pair.proj.bias.data,
            weightGrad: pair.proj.weight.grad,
            biasGrad: pair.proj.bias.grad,
          }
        : null,
      scale,
      true,
    );
    lossSum += r.lossSum / n;
    const ds = r.dstudent as FArray;
    const prev = hiddenGrads.get(pair.student);
    if (!prev) hiddenGrads.set(pair.student, ds);
    else {
      const sum = allocLike(prev, prev.length);
      for (let i = 0; i < sum.length; i++) sum[i] = (prev[i] as number) + (ds[i] as number);
      hiddenGrads.set(pair.student, sum);
    }
  }
  return { lossSum, hiddenGrads };
}
