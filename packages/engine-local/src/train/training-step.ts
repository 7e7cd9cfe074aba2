import { EngineError } from "../engine-error.ts";
import { Rng } from "../kernels/rng.ts";
import { runInArena } from "../kernels/wasm-memory.ts";
import { backwardTrain, forwardTrain } from "../model/llama-forward.ts";
import type { LlamaModel } from "../model/llama-model.ts";
import { crossEntropy } from "../model/ops/cross-entropy.ts";
import { type Param, zeroGrad } from "../model/param.ts";
import type { Batch } from "./training-data.ts";

export interface StepResult {
  /** mean token loss over the optimizer step */
  loss: number;
  tokens: number;
  counted: number;
}

/**
 * Forward and backward over the micro-batches of one optimizer step. The loss is averaged over
 * all counted tokens of the step (not per micro-batch), so gradient accumulation gives the same
 * gradient as one big batch. Dropout randomness is derived from (seed, step, micro-batch).
 */
export function accumulateGradients(
  model: LlamaModel,
  params: Param[],
  batches: Batch[],
  seed: number,
  step: number,
): StepResult {
  for (const p of params) zeroGrad(p);
  const counted = batches.reduce((s, b) => s + b.counted, 0);
  let lossSum = 0;
  let tokens = 0;
  batches.forEach((b, i) => {
    tokens += b.tokens;
    if (b.counted === 0) return;
    const rng = Rng.fromSeed(seed, 1_000_000 + step * 1024 + i);
    // each micro-batch's temporaries live in the wasm arena (the kernels work on them in place)
    // and are freed when it is done
    lossSum += runInArena(() => {
      const tape = forwardTrain(model, b.ids, b.batch, b.seq, rng, b.segStart);
      const ce = crossEntropy(
        tape.logits,
        b.targets,
        b.batch * b.seq,
        model.config.vocabSize,
        1 / counted,
        true,
      );
      if (!Number.isFinite(ce.lossSum)) {
        throw new EngineError("nan_loss", `loss is ${ce.lossSum} at step ${step + 1}`, {
          field: "training.learningRate",
          hint: "lower the learning rate or the max grad norm",
        });
      }
      tape.logits = ce.dlogits!; // the tape's logits are no longer needed
      backwardTrain(model, tape, ce.dlogits!);
      return ce.lossSum;
    });
  });
  return { loss: counted ? lossSum / counted : 0, tokens, counted };
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
