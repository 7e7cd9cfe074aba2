import { z } from "zod";

/** Client-safe schemas of an evaluation (the web validates requests with them). */
/** Where an evaluation's problems come from. */
export const ZEvalSet = z.discriminatedUnion("kind", [
  /** a dataset version (a test split, a held-out set): each row's messages and reference */
  z.object({
    kind: z.literal("version"),
    versionId: z.string().min(1),
    maxExamples: z.number().int().min(1).max(100_000).optional(),
  }),
  /** the held-out set a run evaluates on (its config's evaluation.datasetVersionId / maxExamples) */
  z.object({ kind: z.literal("run-heldout"), runId: z.string().min(1) }),
]);
export type EvalSet = z.infer<typeof ZEvalSet>;

/** Generation settings of an evaluation (R1's pass@1 uses k samples at temperature 0.6). */
export const ZEvalSettings = z.object({
  temperature: z.number().min(0).max(2).default(0),
  topP: z.number().gt(0).max(1).default(1),
  maxTokens: z.number().int().min(1).max(32_768).default(256),
  k: z.number().int().min(1).max(64).default(1),
  seed: z.number().int().min(0).default(0),
});
export type EvalSettings = z.infer<typeof ZEvalSettings>;

/** An evaluation's model id for a teacher endpoint of the workspace: `teacher:<teacherId>`. */
export const TEACHER_MODEL_PREFIX = "teacher:";

export function teacherIdOf(model: string): string | null {
  return model.startsWith(TEACHER_MODEL_PREFIX) ? model.slice(TEACHER_MODEL_PREFIX.length) || null : null;
}
