import { EngineError } from "../engine-error.ts";
import type { FArray } from "../kernels/float-array.ts";
import { Rng } from "../kernels/rng.ts";
import { runInArena } from "../kernels/wasm-memory.ts";
import { backwardTrain, forwardTrain } from "../model/llama-forward.ts";
import type { LlamaModel } from "../model/llama-model.ts";
import { crossEntropy } from "../model/ops/cross-entropy.ts";
import { distillLoss, type TeacherDistribution } from "../model/ops/distill-loss.ts";
import { type Param, zeroGrad } from "../model/param.ts";
import type { DistillContext } from "./distillation.ts";
import { featureStepLoss } from "./feature-distillation.ts";
import type { Batch } from "./training-data.ts";

export interface StepResult {
  /** mean token loss over the optimizer step (α·CE + (1 − α)·divergence when distilling) */
  loss: number;
  tokens: number;
  counted: number;
  /** distillation only: the two parts of the loss and how the two models agree, per counted token */
  distill?: {
    kdLoss: number;
    ceLoss: number;
    top1Agreement: number;
    /**
     * mean log-probability the teacher gives the targets (the student's own samples, on-policy);
     * null from stored top-k logits, which do not hold every target's
     */
    teacherLogprob: number | null;
    /** feature distillation: the hidden-state MSE (mean over layer pairs), before its weight */
    featureLoss: number | null;
    /** micro-batches the student sampled itself, and their mean completion length */
    onPolicyBatches: number;
    sampledLength: number | null;
  };
}

export interface DistillStep {
  ctx: DistillContext;
  /**
   * On-policy: micro-batch `i` replaced by the student's own samples of its prompts (with their
   * mean completion length), or null to keep the data; called before any gradient is computed.
   */
  onPolicyBatch?: (i: number, batch: Batch) => { batch: Batch; sampledLength: number } | null;
  /** logit mode from stored teacher logits: micro-batch `i`'s top-k teacher distribution */
  storedTeacher?: (i: number, batch: Batch) => TeacherDistribution;
}

/** log p(target) under each counted row's softmax (T = 1), summed */
function sumTargetLogprob(
  logits: ArrayLike<number>,
  targets: Int32Array,
  rows: number,
  vocab: number,
): number {
  let s = 0;
  for (let i = 0; i < rows; i++) {
    const t = targets[i] as number;
    if (t < 0) continue;
    const o = i * vocab;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < vocab; j++) max = Math.max(max, logits[o + j] as number);
    let sum = 0;
    for (let j = 0; j < vocab; j++) sum += Math.exp((logits[o + j] as number) - max);
    s += (logits[o + t] as number) - max - Math.log(sum);
  }
  return s;
}

/**
 * Forward and backward over the micro-batches of one optimizer step. The loss is averaged over
 * all counted tokens of the step (not per micro-batch), so gradient accumulation gives the same
 * gradient as one big batch. Dropout randomness is derived from (seed, step, micro-batch).
 * With `distill`, the frozen teacher runs the same batch and the loss is α·CE + (1 − α)·the
 * divergence of the student's distribution from the teacher's.
 */
export function accumulateGradients(
  model: LlamaModel,
  params: Param[],
  inputBatches: Batch[],
  seed: number,
  step: number,
  distill?: DistillStep,
): StepResult {
  for (const p of params) zeroGrad(p);
  let onPolicyBatches = 0;
  let sampledTotal = 0;
  const batches = inputBatches.map((b, i) => {
    const replaced = distill?.onPolicyBatch?.(i, b);
    if (!replaced) return b;
    onPolicyBatches++;
    sampledTotal += replaced.sampledLength;
    return replaced.batch;
  });
  const counted = batches.reduce((s, b) => s + b.counted, 0);
  let lossSum = 0;
  let tokens = 0;
  let kdSum = 0;
  let ceSum = 0;
  let agree = 0;
  let teacherLp = 0;
  let featureSum = 0;
  const vocab = model.config.vocabSize;
  batches.forEach((b, i) => {
    tokens += b.tokens;
    if (b.counted === 0) return;
    const rng = Rng.fromSeed(seed, 1_000_000 + step * 1024 + i);
    const rows = b.batch * b.seq;
    // each micro-batch's temporaries live in the wasm arena (the kernels work on them in place)
    // and are freed when it is done
    lossSum += runInArena(() => {
      const ctx = distill?.ctx;
      const teacherTape = ctx?.teacher
        ? forwardTrain(ctx.teacher, b.ids, b.batch, b.seq, null, b.segStart)
        : null;
      const teacherLogits = teacherTape ? teacherTape.logits : null;
      const stored = ctx && !ctx.teacher ? distill?.storedTeacher?.(i, b) : undefined;
      const tape = forwardTrain(model, b.ids, b.batch, b.seq, rng, b.segStart);
      // feature mode keeps the data's cross-entropy whole (no divergence to mix it with)
      const alpha = ctx && ctx.mode !== "feature" ? ctx.alpha : 1;
      const ce = crossEntropy(tape.logits, b.targets, rows, vocab, alpha / counted, alpha > 0);
      let loss = alpha * ce.lossSum;
      let dlogits = ce.dlogits;
      let hiddenGrads: Map<number, FArray> | undefined;
      if (ctx?.feature && teacherTape) {
        const f = featureStepLoss(ctx.feature, tape, teacherTape, b.targets, 1 / counted);
        loss += ctx.feature.weight * f.lossSum;
        featureSum += f.lossSum;
        hiddenGrads = f.hiddenGrads;
      }
      if (ctx && teacherLogits && ctx.mode === "feature") {
        ceSum += ce.lossSum;
        teacherLp += sumTargetLogprob(teacherLogits, b.targets, rows, vocab);
      }
      if (ctx && (teacherLogits || stored) && ctx.mode !== "feature") {
        const teacherDist: TeacherDistribution =
          stored ??
          (ctx.topK === undefined || !teacherLogits
            ? { kind: "logits", logits: teacherLogits as FArray }
            : topKOf(teacherLogits, rows, vocab, ctx.topK, b.targets));
        const kd = distillLoss(
          tape.logits,
          teacherDist,
          b.targets,
          rows,
          vocab,
          { beta: ctx.beta, temperature: ctx.temperature },
          (1 - alpha) / counted,
          true,
        );
        loss += (1 - alpha) * kd.lossSum;
        kdSum += kd.lossSum;
        ceSum += ce.lossSum;
        agree += kd.agreeCount;
        if (teacherLogits) teacherLp += sumTargetLogprob(teacherLogits, b.targets, rows, vocab);
        const g = kd.dlogits as NonNullable<typeof kd.dlogits>;
        if (dlogits)
          for (let j = 0; j < g.length; j++) dlogits[j] = (dlogits[j] as number) + (g[j] as number);
        else dlogits = g;
      }
      if (!Number.isFinite(loss)) {
        throw new EngineError("nan_loss", `loss is ${loss} at step ${step + 1}`, {
          field: "training.learningRate",
          hint: "lower the learning rate or the max grad norm",
        });
      }
      const grad = dlogits as NonNullable<typeof dlogits>;
      tape.logits = grad; // the tape's logits are no longer needed
      backwardTrain(model, tape, grad, hiddenGrads);
      return loss;
    });
  });
  const result: StepResult = { loss: counted ? lossSum / counted : 0, tokens, counted };
  if (distill && counted)
    result.distill = {
      kdLoss: kdSum / counted,
      ceLoss: ceSum / counted,
      top1Agreement: agree / counted,
      teacherLogprob: distill.ctx.teacher ? teacherLp / counted : null,
      featureLoss: distill.ctx.feature ? featureSum / counted : null,
      onPolicyBatches,
      sampledLength: onPolicyBatches ? sampledTotal / onPolicyBatches : null,
    };
  return result;
}

/**
 * The teacher's top-k log-probabilities (T = 1) of each counted row, as an endpoint or a stored
 * "teacher logits" artifact would give them.
 */
export function topKOf(
  logits: ArrayLike<number>,
  rows: number,
  vocab: number,
  k: number,
  targets: Int32Array,
): { kind: "topk"; k: number; ids: Int32Array; logprobs: Float64Array } {
  const kk = Math.min(k, vocab);
  const ids = new Int32Array(rows * kk);
  const logprobs = new Float64Array(rows * kk);
  const order = Array.from({ length: vocab }, (_, j) => j);
  for (let i = 0; i < rows; i++) {
    if ((targets[i] as number) < 0) continue;
    const o = i * vocab;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < vocab; j++) max = Math.max(max, logits[o + j] as number);
    let sum = 0;
    for (let j = 0; j < vocab; j++) sum += Math.exp((logits[o + j] as number) - max);
    const lse = max + Math.log(sum);
    order.sort((a, b) => (logits[o + b] as number) - (logits[o + a] as number) || a - b);
    for (let b = 0; b < kk; b++) {
      ids[i * kk + b] = order[b] as number;
      logprobs[i * kk + b] = (logits[o + (order[b] as number)] as number) - lse;
    }
  }
  return { kind: "topk", k: kk, ids, logprobs };
}

/** Mean token loss over `batches` without dropout or gradients (eval loss). */
export function evaluateLoss(model: LlamaModel, batches: Batch[]): number {
  let lossSum = 0;
  let count = 0;
  for (const b of batches) {
    if (b.counted === 0) continue;
    const ce = runInArena(() => {
      const tape = forwardTrain(model, b.ids, b.batch, b.seq, null, b.segStart);
      return crossEntropy(tape.logits, b.targets, b.batch * b.seq, model.config.vocabSize, 0, false);
    });
    lossSum += ce.lossSum;
    count += ce.count;
  }
  return count ? lossSum / count : Number.NaN;
}
