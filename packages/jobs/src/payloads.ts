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

export const PAYLOADS = {
  [QUEUES.echo]: ZEchoPayload,
  [QUEUES.runsLocal]: ZTrainRunPayload,
  [QUEUES.runsHf]: ZTrainRunPayload,
} as const;

export type EchoPayload = z.infer<typeof ZEchoPayload>;
export type TrainRunPayload = z.infer<typeof ZTrainRunPayload>;
export type PayloadOf<Q extends keyof typeof PAYLOADS> = z.infer<(typeof PAYLOADS)[Q]>;
export type PayloadInputOf<Q extends keyof typeof PAYLOADS> = z.input<(typeof PAYLOADS)[Q]>;
