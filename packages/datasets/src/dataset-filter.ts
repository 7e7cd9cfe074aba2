import { z } from "zod";

const ZField = z.enum(["prompt", "reasoning", "answer", "any"]);

/** One filter step of a new version. Applied in order; `sample` always runs last. */
export const ZDatasetFilter = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("maxTokens"),
    max: z.number().int().positive(),
    /** which length: the whole rendered example, or its prompt or completion side */
    of: z.enum(["total", "prompt", "completion"]).default("total"),
  }),
  z.object({
    type: z.literal("dedupe"),
    mode: z.enum(["exact", "normalized"]).default("exact"),
    on: z.enum(["prompt", "example"]).default("prompt"),
  }),
  z.object({
    type: z.literal("think"),
    drop: z
      .array(z.enum(["missing", "unclosed"]))
      .min(1)
      .default(["missing", "unclosed"]),
  }),
  z.object({
    type: z.literal("answerMatch"),
    /** rows without a reference or without an extractable answer */
    whenUnknown: z.enum(["keep", "drop"]).default("drop"),
  }),
  z.object({
    type: z.literal("regex"),
    pattern: z.string().min(1).max(1000),
    flags: z
      .string()
      .regex(/^[imsu]*$/, "flags may only be i, m, s, u")
      .default(""),
    field: ZField.default("any"),
    action: z.enum(["include", "exclude"]),
  }),
  z.object({ type: z.literal("sample"), n: z.number().int().positive(), seed: z.number().int().default(42) }),
]);
export type DatasetFilter = z.infer<typeof ZDatasetFilter>;
export type DatasetFilterInput = z.input<typeof ZDatasetFilter>;
