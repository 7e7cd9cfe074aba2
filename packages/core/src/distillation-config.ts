import { z } from "zod";

/**
 * What a run learns from: the teacher's text (`sft`, data distillation), the teacher's token
 * distribution over the same sequences (`logit`), or the teacher's judgement of the student's own
 * samples (`on-policy`, GKD with λ). Field names follow TRL's GKDConfig where it has them.
 */
export const DISTILLATION_MODES = ["sft", "logit", "on-policy"] as const;
export type DistillationMode = (typeof DISTILLATION_MODES)[number];

export const ZDistillationTeacher = z.object({
  /** a model in the studio's catalog, run frozen beside the student */
  modelId: z.string().min(1, "pick the teacher model"),
});

export const ZDistillationConfig = z.object({
  mode: z.enum(DISTILLATION_MODES).default("sft"),
  teacher: ZDistillationTeacher.optional(),
  /**
   * Generalised JSD weight as TRL's GKDTrainer: 0 = forward KL(teacher‖student), 1 = reverse
   * KL(student‖teacher). Unset: 0 for logit, 1 for on-policy (the per-token reverse KL).
   */
  beta: z.number().min(0, "beta must be in [0, 1]").max(1, "beta must be in [0, 1]").optional(),
  /** softens both distributions; the loss is scaled by T² */
  temperature: z.number().gt(0, "temperature must be positive").max(20).default(1),
  /** weight of the cross-entropy on the data: loss = α·CE + (1 − α)·divergence */
  alpha: z.number().min(0).max(1).default(0),
  /** compare on the teacher's top-k tokens and one tail bucket (endpoints return top-k logprobs) */
  topK: z.number().int().min(1).max(1000).optional(),
  /** on-policy: the fraction of batches the student samples itself (GKD's λ) */
  lmbda: z.number().min(0).max(1).default(1),
  /** on-policy: tokens the student samples per prompt, and at which temperature */
  maxNewTokens: z.number().int().min(1).max(8192).default(128),
  samplingTemperature: z.number().gt(0).max(2).default(1),
});

export type DistillationConfig = z.infer<typeof ZDistillationConfig>;

export const DEFAULT_DISTILLATION: DistillationConfig = ZDistillationConfig.parse({});

/** The divergence weight a run uses: the configured beta, else the mode's default. */
export function resolveDistillationBeta(d: Pick<DistillationConfig, "mode" | "beta">): number {
  return d.beta ?? (d.mode === "on-policy" ? 1 : 0);
}

/** Cross-field rules of the distillation section (see engineConfigIssues). */
export function distillationConfigIssues(
  d: DistillationConfig,
  training: { packing: boolean; completionOnlyLoss: boolean } = { packing: false, completionOnlyLoss: true },
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  if (d.mode === "on-policy" && training.packing)
    issues.push({
      path: ["training", "packing"],
      message: "on-policy distillation samples each prompt's completion on its own: turn packing off",
    });
  if (d.mode === "on-policy" && !training.completionOnlyLoss)
    issues.push({
      path: ["training", "completionOnlyLoss"],
      message: "on-policy distillation trains on the sampled completions only: turn completion-only loss on",
    });
  if (d.mode !== "sft" && !d.teacher)
    issues.push({
      path: ["distillation", "teacher", "modelId"],
      message: `${d.mode} distillation learns from a teacher's distribution: pick the teacher model`,
    });
  if (d.mode === "sft" && d.teacher)
    issues.push({
      path: ["distillation", "mode"],
      message:
        "a teacher is set but the mode is sft (text only): pick logit or on-policy, or remove the teacher",
    });
  if (d.mode === "on-policy" && d.alpha > 0 && d.lmbda === 1)
    issues.push({
      path: ["distillation", "alpha"],
      message:
        "with lmbda 1 every batch is the student's own samples, which have no data to mix in: set alpha 0 or lmbda below 1",
    });
  return issues;
}
