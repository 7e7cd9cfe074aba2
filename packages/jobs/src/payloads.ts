import { z } from "zod";
import { QUEUES } from "./queues.ts";

/** Payloads are parsed when enqueued and again when consumed (a queue outlives a deploy). */
export const ZEchoPayload = z.object({
  jobId: z.string().min(1),
  workspaceId: z.string().min(1),
  message: z.string().max(10_000),
  /** milliseconds the worker waits before answering (to watch a job in flight) */
  delayMs: z.number().int().min(0).max(60_000).default(0),
});

export const ZTrainRunPayload = z.object({
  runId: z.string().min(1),
  workspaceId: z.string().min(1),
});

/**
 * A dataset job: an import (an upload already in blob storage, or a Hub split) or a derived
 * version (filter, split) of an existing one. The Job row (kind "dataset-import") records its
 * progress and outcome; `mapping` and `filters` are validated again by the engine.
 */
const ZDatasetImportSource = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("upload"),
    /** blob key of the uploaded file (under uploads/), removed when the job ends */
    key: z.string().regex(/^uploads\/[\w-]+\/[\w-]+$/, "an upload key looks like uploads/<workspace>/<id>"),
    fileName: z.string().min(1).max(255),
  }),
  z.object({
    kind: z.literal("hub"),
    dataset: z.string().min(1).max(200),
    config: z.string().max(200).optional(),
    split: z.string().max(200).default("train"),
    /** for gated sets; travels in the queue payload only, never stored on the Job row */
    token: z.string().max(500).optional(),
    hubUrl: z.url().default("https://huggingface.co"),
    datasetsServerUrl: z.url().optional(),
  }),
]);

const ZDatasetJobCommon = {
  jobId: z.string().min(1),
  workspaceId: z.string().min(1),
  /** model whose tokenizer.json counts tokens; omitted: the workspace's first model with one */
  tokenizerModelId: z.string().min(1).optional(),
  /** chat template id the statistics and maxTokens filter render with */
  template: z.string().min(1).default("phi3"),
  maxLength: z.number().int().positive().max(1_000_000).default(2048),
};

export const ZDatasetJobPayload = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("import"),
    ...ZDatasetJobCommon,
    datasetName: z.string().min(1).max(200),
    source: ZDatasetImportSource,
    mapping: z.record(z.string(), z.unknown()).optional(),
    policy: z.enum(["skip", "reject"]).default("skip"),
    createdById: z.string().optional(),
  }),
  z.object({
    op: z.literal("filter"),
    ...ZDatasetJobCommon,
    versionId: z.string().min(1),
    filters: z.array(z.record(z.string(), z.unknown())).min(1).max(20),
  }),
  z.object({
    op: z.literal("split"),
    ...ZDatasetJobCommon,
    versionId: z.string().min(1),
    testFraction: z.number().gt(0).lt(1).default(0.1),
    seed: z.number().int().default(42),
  }),
  /** token statistics of a version recounted with another model's tokenizer (the student's) */
  z.object({
    op: z.literal("stats"),
    ...ZDatasetJobCommon,
    versionId: z.string().min(1),
  }),
  /** maintenance, from a job scheduler: no Job row, nothing to claim */
  z.object({ op: z.literal("sweep-uploads") }),
]);

/**
 * Adding a model (Job kind "model-add"): downloaded from the Hub (or a mirror: `endpoint`), an
 * uploaded folder already in blob storage, or a folder on the worker's disk registered in place.
 */
export const ZModelJobPayload = z.object({
  jobId: z.string().min(1),
  workspaceId: z.string().min(1),
  name: z.string().min(1).max(200),
  source: z.discriminatedUnion("kind", [
    z.object({
      kind: z.literal("hub"),
      repoId: z.string().min(1).max(200),
      revision: z.string().min(1).max(200).default("main"),
      endpoint: z.url().default("https://huggingface.co"),
      /** for gated models; travels in the queue payload only, never stored on the Job row */
      token: z.string().max(500).optional(),
    }),
    z.object({
      kind: z.literal("upload"),
      /** blob prefix holding the uploaded files (removed once registered) */
      prefix: z.string().regex(/^model-uploads\/[\w-]+\/[\w-]+$/),
    }),
    z.object({ kind: z.literal("path"), path: z.string().min(1).max(4096) }),
  ]),
});

/** A generation job: the GenerationJob row holds its config; Postgres owns its state. */
export const ZGenerationPayload = z.object({
  generationJobId: z.string().min(1),
  workspaceId: z.string().min(1),
});

/** An evaluation: the Evaluation row holds model, eval set and settings; Postgres owns its state. */
export const ZEvaluationPayload = z.object({
  evaluationId: z.string().min(1),
  workspaceId: z.string().min(1),
});

/** a TeacherLogits row: `estimate` (size and time) or `compute` (the artifact) */
export const ZTeacherLogitsPayload = z.object({
  artifactId: z.string().min(1),
  workspaceId: z.string().min(1),
  phase: z.enum(["estimate", "compute"]),
});

export const PAYLOADS = {
  [QUEUES.echo]: ZEchoPayload,
  [QUEUES.runsLocal]: ZTrainRunPayload,
  [QUEUES.runsHf]: ZTrainRunPayload,
  [QUEUES.datasets]: ZDatasetJobPayload,
  [QUEUES.models]: ZModelJobPayload,
  [QUEUES.generations]: ZGenerationPayload,
  [QUEUES.evaluations]: ZEvaluationPayload,
  [QUEUES.teacherLogits]: ZTeacherLogitsPayload,
} as const;

export type EchoPayload = z.infer<typeof ZEchoPayload>;
export type TrainRunPayload = z.infer<typeof ZTrainRunPayload>;
export type DatasetJobPayload = z.infer<typeof ZDatasetJobPayload>;
export type DatasetJobPayloadInput = z.input<typeof ZDatasetJobPayload>;
export type ModelJobPayload = z.infer<typeof ZModelJobPayload>;
export type GenerationPayload = z.infer<typeof ZGenerationPayload>;
export type EvaluationPayload = z.infer<typeof ZEvaluationPayload>;
export type TeacherLogitsPayload = z.infer<typeof ZTeacherLogitsPayload>;
export type PayloadOf<Q extends keyof typeof PAYLOADS> = z.infer<(typeof PAYLOADS)[Q]>;
export type PayloadInputOf<Q extends keyof typeof PAYLOADS> = z.input<(typeof PAYLOADS)[Q]>;
