import type { TrainingArgs } from "@distillery/core";

/** transformers' schedules: the multiplier of the base learning rate at optimizer step `step` (0-based). */
export function computeLrFactor(
  scheduler: TrainingArgs["scheduler"],
  step: number,
  totalSteps: number,
  warmupSteps: number,
): number {
  if (scheduler === "constant") return 1;
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  if (scheduler === "constant_with_warmup") return 1;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  if (scheduler === "linear") return Math.max(0, 1 - progress);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

export function computeWarmupSteps(warmupRatio: number, totalSteps: number): number {
  return Math.ceil(warmupRatio * totalSteps);
}
