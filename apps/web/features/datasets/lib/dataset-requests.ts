import { ZDatasetMapping } from "@distillery/core";
import { z } from "zod";

/** Request bodies of the datasets API, shared by the routes and the forms (client-safe). */

export const ZImportRequest = z.object({
  datasetName: z
    .string()
    .trim()
    .min(1, "name the dataset")
    .max(200)
    .refine(
      (v) => !/[/\\]/.test(v) && ![...v].some((c) => c.charCodeAt(0) < 0x20),
      "no slashes or control characters",
    ),
  source: z.discriminatedUnion("kind", [
    z.object({
      kind: z.literal("upload"),
      uploadId: z.string().regex(/^up_[0-9a-f]{16}$/, "not an upload id"),
      fileName: z.string().min(1).max(255),
    }),
    z.object({
      kind: z.literal("hub"),
      dataset: z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/, "a dataset id looks like owner/name"),
      config: z.string().trim().max(200).optional(),
      split: z.string().trim().min(1).max(200).default("train"),
      token: z.string().trim().max(500).optional(),
    }),
  ]),
  mapping: ZDatasetMapping.optional(),
  policy: z.enum(["skip", "reject"]).default("skip"),
  template: z.string().min(1).default("phi3"),
  tokenizerModelId: z.string().min(1).optional(),
  maxLength: z.number().int().positive().max(1_000_000).default(2048),
});
export type ImportRequest = z.input<typeof ZImportRequest>;

export const ZDeriveRequest = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("filter"),
    filters: z.array(z.record(z.string(), z.unknown())).min(1, "add at least one filter").max(20),
    template: z.string().min(1).default("phi3"),
    tokenizerModelId: z.string().min(1).optional(),
  }),
  z.object({
    op: z.literal("split"),
    testFraction: z.number().gt(0, "between 0 and 1").lt(1, "between 0 and 1").default(0.1),
    seed: z.number().int().default(42),
    template: z.string().min(1).default("phi3"),
    tokenizerModelId: z.string().min(1).optional(),
  }),
  /** recount the token statistics with the chosen model's tokenizer (the student's) */
  z.object({
    op: z.literal("stats"),
    template: z.string().min(1).default("phi3"),
    tokenizerModelId: z.string().min(1, "choose a model"),
    maxLength: z.number().int().positive().max(1_000_000).optional(),
  }),
]);
export type DeriveRequest = z.input<typeof ZDeriveRequest>;
