import { VERSION_COLUMNS, ZSampling } from "@distillery/teacher";
import { z } from "zod";

const ZColumn = z.string().trim().min(1, "pick a column").max(200);

/** "Generate with a teacher": the source, the teacher and the settings (defaults: R1's notes). */
export const ZCreateGenerationBody = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  teacherId: z.string().min(1, "pick a teacher"),
  source: z.discriminatedUnion("kind", [
    z.object({
      kind: z.literal("version"),
      versionId: z.string().min(1),
      promptColumn: z.enum(VERSION_COLUMNS).default("prompt"),
      referenceColumn: z.enum(VERSION_COLUMNS).nullable().default(null),
    }),
    z.object({
      kind: z.literal("prompts"),
      /** the pasted text or the uploaded file's content */
      text: z.string().max(50_000_000),
      fileName: z.string().max(255).optional(),
      promptColumn: ZColumn.default("prompt"),
      referenceColumn: ZColumn.nullable().default(null),
    }),
  ]),
  sampling: ZSampling.default(ZSampling.parse({})),
  samplesPerPrompt: z.number().int().min(1).max(64).default(1),
  rejectionAttempts: z.number().int().min(0).max(64).default(0),
  keepOnlyVerified: z.boolean().default(true),
  concurrency: z.number().int().min(1).max(512).default(16),
  requestsPerMinute: z.number().int().min(1).nullable().default(null),
  tokensPerMinute: z.number().int().min(1).nullable().default(null),
  maxTries: z.number().int().min(1).max(20).default(5),
  outputDatasetName: z.string().trim().min(1).max(200).optional(),
});
export type CreateGenerationBody = z.infer<typeof ZCreateGenerationBody>;
export type CreateGenerationInput = z.input<typeof ZCreateGenerationBody>;
