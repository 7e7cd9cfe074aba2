import { z } from "zod";

/**
 * The engine event protocol: one JSON object per line on an engine's stdout.
 * Every engine (TypeScript or Python) speaks it; `seq` increases monotonically per run, and
 * persistence is idempotent on (runId, seq), so replaying a stream never duplicates a point.
 * The JSON Schema exported from these schemas (schemas/events.schema.json) is what the Python
 * trainer validates against; fixtures/events/*.jsonl are shared by the tests of both sides.
 */

const ZBase = z.object({
  runId: z.string().min(1),
  seq: z.number().int().nonnegative(),
  /** milliseconds since the epoch, when the engine emitted the event */
  ts: z.number().nonnegative(),
});

export const RUN_PHASES = [
  "starting",
  "loading",
  "training",
  "evaluating",
  "saving",
  "merging",
  "exporting",
] as const;

export const ZStatusEvent = ZBase.extend({
  type: z.literal("status"),
  phase: z.enum(RUN_PHASES),
  message: z.string().optional(),
  step: z.number().int().nonnegative().optional(),
  totalSteps: z.number().int().nonnegative().optional(),
  epoch: z.number().nonnegative().optional(),
});

/**
 * Metric names the studio charts. Engines may add others (they are stored and shown as-is).
 * loss, eval_loss, learning_rate, grad_norm, tokens_per_second, gpu_memory_mb, epoch
 */
export const KNOWN_METRICS = [
  "loss",
  "eval_loss",
  "learning_rate",
  "grad_norm",
  "tokens_per_second",
  "gpu_memory_mb",
  "epoch",
] as const;

export const ZMetricEvent = ZBase.extend({
  type: z.literal("metric"),
  step: z.number().int().nonnegative(),
  values: z.record(z.string(), z.number()),
});

export const ZSampleEvent = ZBase.extend({
  type: z.literal("sample"),
  step: z.number().int().nonnegative(),
  promptIndex: z.number().int().nonnegative(),
  prompt: z.string(),
  output: z.string(),
});

export const ZLogEvent = ZBase.extend({
  type: z.literal("log"),
  level: z.enum(["debug", "info", "warn", "error"]),
  message: z.string(),
});

export const ZCheckpointEvent = ZBase.extend({
  type: z.literal("checkpoint"),
  step: z.number().int().nonnegative(),
  path: z.string().min(1),
  epoch: z.number().nonnegative().optional(),
});

/** "hub": a Hugging Face Hub repository the run pushed to; `path` is its URL, not a local path. */
export const ARTIFACT_KINDS = ["adapter", "merged", "onnx", "model", "tokenizer", "report", "hub"] as const;

export const ZArtifactEvent = ZBase.extend({
  type: z.literal("artifact"),
  kind: z.enum(ARTIFACT_KINDS),
  path: z.string().min(1),
  bytes: z.number().int().nonnegative().optional(),
});

export const ZEvalEvent = ZBase.extend({
  type: z.literal("eval"),
  /** e.g. "before", "after", or a benchmark's name */
  name: z.string().min(1),
  step: z.number().int().nonnegative().optional(),
  metrics: z.record(z.string(), z.number()),
});

export const ZDoneEvent = ZBase.extend({
  type: z.literal("done"),
  step: z.number().int().nonnegative(),
  metrics: z.record(z.string(), z.number()).optional(),
});

export const ZErrorEvent = ZBase.extend({
  type: z.literal("error"),
  message: z.string().min(1),
  /** machine-readable reason: config_invalid, out_of_memory, nan_loss, data_invalid, internal … */
  code: z.string().optional(),
  /** the run-config field at fault, dotted (e.g. "lora.targetModules") */
  field: z.string().optional(),
  hint: z.string().optional(),
});

export const ZEngineEvent = z.discriminatedUnion("type", [
  ZStatusEvent,
  ZMetricEvent,
  ZSampleEvent,
  ZLogEvent,
  ZCheckpointEvent,
  ZArtifactEvent,
  ZEvalEvent,
  ZDoneEvent,
  ZErrorEvent,
]);

export type EngineEvent = z.infer<typeof ZEngineEvent>;
export type EngineEventType = EngineEvent["type"];
export type MetricEvent = z.infer<typeof ZMetricEvent>;
export type SampleEvent = z.infer<typeof ZSampleEvent>;

/** What an engine passes to `emit`: everything but the envelope it fills in. */
export type EngineEventBody = EngineEvent extends infer E
  ? E extends EngineEvent
    ? Omit<E, "runId" | "seq" | "ts">
    : never
  : never;

/** Parse one stdout line. Returns the event, or an error naming what is wrong with the line. */
export function parseEventLine(
  line: string,
): { ok: true; event: EngineEvent } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  const parsed = ZEngineEvent.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}` };
  }
  return { ok: true, event: parsed.data };
}

/** Creates an emitter that stamps runId, seq and ts; seq continues from `startSeq` (resume). */
export function createEventStamper(runId: string, startSeq = 0) {
  let seq = startSeq;
  return {
    stamp(body: EngineEventBody): EngineEvent {
      return ZEngineEvent.parse({ ...body, runId, seq: seq++, ts: Date.now() });
    },
    get nextSeq() {
      return seq;
    },
  };
}
