import { z } from "zod";

/**
 * What a run learns from: the teacher's text (`sft`, data distillation), the teacher's token
 * distribution over the same sequences (`logit`), the teacher's judgement of the student's own
 * samples (`on-policy`, GKD with λ), or the teacher's hidden states (`feature`, MSE through a
 * learned projection; `feature` settings may also be added to a `logit` run). Field names follow
 * TRL's GKDConfig where it has them.
 */
export const DISTILLATION_MODES = ["sft", "logit", "on-policy", "feature"] as const;
export type DistillationMode = (typeof DISTILLATION_MODES)[number];

export const ZDistillationTeacher = z.object({
  /** a model in the studio's catalog, run frozen beside the student */
  modelId: z.string().min(1, "pick the teacher model"),
});

/**
 * A teacher endpoint (packages/teacher, an OpenAI-compatible server that returns vLLM's
 * `prompt_logprobs`) as the distillation teacher instead of a catalog model: asked for the
 * top-k log-probabilities of every batch (logit) or of the student's samples (on-policy).
 */
export const ZDistillationTeacherEndpoint = z
  .object({
    teacherId: z.string().min(1, "pick the teacher endpoint").describe("the teacher endpoint's id"),
  })
  .describe("logit / on-policy: a teacher endpoint that returns prompt_logprobs (vLLM) instead of a catalog model");

/** top-k an endpoint teacher is asked for when the run sets none */
export const DEFAULT_ENDPOINT_TOP_K = 20;

/**
 * One student layer matched to one teacher layer. Indexes are hidden states as transformers'
 * `output_hidden_states` counts them: 0 = the embeddings, i = the output of decoder layer i
 * (before the final norm), up to the model's number of layers.
 */
export const ZFeatureLayerPair = z.object({
  student: z
    .number()
    .int("a layer index is a whole number")
    .min(0, "a layer index is 0 (embeddings) or more")
    .describe("student hidden state: 0 = embeddings, i = output of decoder layer i"),
  teacher: z
    .number()
    .int("a layer index is a whole number")
    .min(0, "a layer index is 0 (embeddings) or more")
    .describe("teacher hidden state matched to it: 0 = embeddings, i = output of decoder layer i"),
});

/**
 * Feature distillation: mean squared error between the student's and the teacher's hidden
 * states at the chosen layers, on the counted tokens. Where the widths differ the student's
 * state goes through a learned linear projection (trained with the student's optimizer, saved in
 * checkpoints for resume, never in the adapter or the merged model).
 */
export const ZFeatureDistillation = z
  .object({
    layers: z
      .array(ZFeatureLayerPair)
      .min(1, "pick at least one student/teacher layer pair")
      .max(16, "at most 16 layer pairs")
      .describe("student/teacher hidden-state pairs to match"),
    weight: z
      .number()
      .gt(0, "the feature loss weight must be positive")
      .max(1000)
      .default(1)
      .describe("weight of the hidden-state MSE added to the loss"),
  })
  .describe("hidden-state (feature) distillation: MSE through a learned projection when widths differ");
export type FeatureDistillation = z.infer<typeof ZFeatureDistillation>;

/**
 * A stored "teacher logits" artifact of the run's dataset version: the teacher's top-k
 * log-probabilities per target token, computed once, read instead of running the teacher.
 */
export const ZTeacherLogitsRef = z
  .object({
    artifactId: z.string().min(1, "pick the teacher logits artifact").describe("the artifact's id"),
  })
  .describe("logit mode: read the teacher's stored top-k log-probabilities instead of running it");

export const ZDistillationConfig = z.object({
  mode: z.enum(DISTILLATION_MODES).default("sft"),
  teacher: ZDistillationTeacher.optional(),
  /** logit / on-policy: a teacher endpoint instead of `teacher` */
  teacherEndpoint: ZDistillationTeacherEndpoint.optional(),
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
  /** feature mode (or logit + feature): hidden-state pairs and the loss weight */
  feature: ZFeatureDistillation.optional(),
  /** logit mode: the teacher's stored top-k log-probabilities of this dataset version */
  teacherLogits: ZTeacherLogitsRef.optional(),
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
  if (d.mode !== "sft" && !d.teacher && !(d.teacherEndpoint && d.mode !== "feature"))
    issues.push({
      path: ["distillation", "teacher", "modelId"],
      message: `${d.mode} distillation learns from a teacher's distribution: pick the teacher model`,
    });
  if (d.teacher && d.teacherEndpoint)
    issues.push({
      path: ["distillation", "teacherEndpoint"],
      message: "pick one teacher: a catalog model or a teacher endpoint, not both",
    });
  if (d.teacherEndpoint && (d.mode === "feature" || d.feature))
    issues.push({
      path: ["distillation", "teacherEndpoint"],
      message:
        "feature matching needs the teacher's hidden states, which an endpoint does not return: pick a catalog teacher",
    });
  if (d.teacherEndpoint && d.mode === "sft")
    issues.push({
      path: ["distillation", "mode"],
      message:
        "a teacher endpoint is set but the mode is sft (text only): pick logit or on-policy, or remove the endpoint",
    });
  if (d.mode === "feature" && !d.feature)
    issues.push({
      path: ["distillation", "feature", "layers"],
      message: "feature distillation matches hidden states: pick at least one student/teacher layer pair",
    });
  if (d.feature && (d.mode === "sft" || d.mode === "on-policy"))
    issues.push({
      path: ["distillation", "feature"],
      message: `hidden-state matching runs with mode feature or logit, not ${d.mode}: change the mode or remove the feature settings`,
    });
  const seen = new Set<string>();
  d.feature?.layers.forEach((pair, i) => {
    const key = `${pair.student}:${pair.teacher}`;
    if (seen.has(key))
      issues.push({
        path: ["distillation", "feature", "layers", i],
        message: `the pair student ${pair.student} / teacher ${pair.teacher} is listed twice`,
      });
    seen.add(key);
  });
  if (d.mode === "feature" && d.alpha > 0)
    issues.push({
      path: ["distillation", "alpha"],
      message:
        "feature mode has no divergence to mix: its loss is the data's cross-entropy plus weight × the hidden-state MSE; set alpha 0 (or use logit mode with feature settings)",
    });
  if (d.mode === "feature" && d.topK !== undefined)
    issues.push({
      path: ["distillation", "topK"],
      message:
        "top-k applies to the teacher's token distribution, which feature mode does not use: remove topK",
    });
  if (d.teacherLogits && d.mode !== "logit")
    issues.push({
      path: ["distillation", "teacherLogits"],
      message: `stored teacher logits are read by logit mode only (${d.mode} needs the teacher itself)`,
    });
  if (d.teacherLogits && d.feature)
    issues.push({
      path: ["distillation", "teacherLogits"],
      message:
        "feature matching needs the teacher's hidden states, which stored logits do not hold: run the teacher or remove the feature settings",
    });
  if (d.mode === "sft" && d.teacher)
    issues.push({
      path: ["distillation", "mode"],
      message:
        "a teacher is set but the mode is sft (text only): pick logit, on-policy or feature, or remove the teacher",
    });
  if (d.mode === "on-policy" && d.alpha > 0 && d.lmbda === 1)
    issues.push({
      path: ["distillation", "alpha"],
      message:
        "with lmbda 1 every batch is the student's own samples, which have no data to mix in: set alpha 0 or lmbda below 1",
    });
  return issues;
}

/**
 * Feature layer pairs against the two models' depths (known at launch, from their config.json
 * `num_hidden_layers`): an index above a model's layer count is refused naming its field.
 */
export function featureLayerIssues(
  feature: FeatureDistillation | undefined,
  layers: { student: number; teacher: number },
): { path: (string | number)[]; message: string }[] {
  if (!feature) return [];
  const issues: { path: (string | number)[]; message: string }[] = [];
  feature.layers.forEach((pair, i) => {
    for (const side of ["student", "teacher"] as const) {
      const n = layers[side];
      if (pair[side] > n)
        issues.push({
          path: ["distillation", "feature", "layers", i, side],
          message: `${side} layer ${pair[side]} does not exist: the ${side} has ${n} layers (hidden states 0..${n})`,
        });
    }
  });
  return issues;
}
