import { z } from "zod";
import { ZSampling } from "../teacher-endpoint.ts";

/** The columns a dataset version's rows offer as prompt / reference (its canonical fields). */
export const VERSION_COLUMNS = ["prompt", "answer", "reference", "reasoning", "system"] as const;

export const ZGenerationSource = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("version"),
    versionId: z.string().min(1),
    promptColumn: z.enum(VERSION_COLUMNS).default("prompt"),
    referenceColumn: z.enum(VERSION_COLUMNS).nullable().default(null),
  }),
  /** pasted or uploaded prompts, stored on the job row */
  z.object({ kind: z.literal("prompts"), fileName: z.string().max(255).optional() }),
]);

/**
 * A generation job's settings, stored on the job and parsed again by the worker. Defaults follow
 * DeepSeek's R1 usage notes (sampling) and the issue (concurrency 16, keep only verified rows).
 */
export const ZGenerationConfig = z.object({
  source: ZGenerationSource,
  sampling: ZSampling.default(ZSampling.parse({})),
  samplesPerPrompt: z.number().int().min(1).max(64).default(1),
  /** rejection sampling: up to this many attempts per prompt until one verifies (0: off) */
  rejectionAttempts: z.number().int().min(0).max(64).default(0),
  keepOnlyVerified: z.boolean().default(true),
  concurrency: z.number().int().min(1).max(512).default(16),
  requestsPerMinute: z.number().int().min(1).max(1_000_000).nullable().default(null),
  tokensPerMinute: z.number().int().min(1).max(1_000_000_000).nullable().default(null),
  /** tries per request before the row is recorded as failed */
  maxTries: z.number().int().min(1).max(20).default(5),
  /** no byte for this long: the request timed out (and is retried) */
  idleTimeoutMs: z.number().int().min(100).max(3_600_000).default(120_000),
  stream: z.boolean().default(true),
  /** the dataset the result version lands in (default: a new one named after the job) */
  outputDatasetName: z.string().trim().min(1).max(200).optional(),
});
export type GenerationConfig = z.infer<typeof ZGenerationConfig>;
export type GenerationConfigInput = z.input<typeof ZGenerationConfig>;

/** One pasted / uploaded prompt, with its optional reference answer. */
export const ZPromptItem = z.object({
  prompt: z.string().min(1),
  reference: z.string().nullable().optional(),
});
export type PromptItem = z.infer<typeof ZPromptItem>;

/** Requests a job sends at most: every sample, or every rejection attempt. */
export function maxRequestsOf(
  config: Pick<GenerationConfig, "samplesPerPrompt" | "rejectionAttempts">,
  prompts: number,
) {
  return prompts * Math.max(config.samplesPerPrompt, config.rejectionAttempts);
}
