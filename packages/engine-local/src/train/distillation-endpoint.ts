import { readFileSync, statSync } from "node:fs";
import {
  DEFAULT_ENDPOINT_TOP_K,
  type DistillationConfig,
  type EngineJob,
  resolveDistillationBeta,
} from "@distillery/core";
import {
  createRateLimiter,
  type RateLimiter,
  type ScoredPosition,
  scoreWithRetries,
  type TeacherEndpoint,
  TeacherError,
} from "@distillery/teacher/distill";
import { EngineError } from "../engine-error.ts";
import type { LlamaModel } from "../model/llama-model.ts";
import type { TeacherDistribution } from "../model/ops/distill-loss.ts";
import type { DistillContext } from "./distillation.ts";
import { sampleOnPolicyBatch } from "./distillation.ts";
import type { Batch, TokenizedExample } from "./training-data.ts";
import type { DistillStep } from "./training-step.ts";

/**
 * A teacher endpoint as the distillation teacher of a CPU run: every micro-batch's sequences
 * (the data's, or on-policy the student's own samples of its prompts) are scored by the endpoint
 * through vLLM's `prompt_logprobs`, and its top-k log-probabilities stand in for the teacher's
 * forward (the same top-k loss with a tail bucket as stored teacher logits). The API key reaches
 * the engine in DISTILLERY_TEACHER_API_KEY or a 0600 file named in the job, never in argv.
 */
export interface EndpointTeacher {
  endpoint: TeacherEndpoint;
  k: number;
  /** top-k log-probabilities of each sequence's positions 1 … n − 1 */
  score(sequences: number[][], signal?: AbortSignal): Promise<ScoredPosition[][]>;
}

const field = "distillation.teacherEndpoint";
/** the most sequences one request carries (vLLM takes any; the studio's serving 16) */
const REQUEST_ROWS = 16;

/** The key from the job's 0600 file, else the environment; a file others may read is refused. */
export function readTeacherKey(
  spec: NonNullable<EngineJob["paths"]["teacherEndpoint"]>,
  env: Record<string, string | undefined> = process.env,
): string | undefined {
  if (spec.keyFile) {
    const mode = statSync(spec.keyFile).mode & 0o777;
    if (mode & 0o077)
      throw new EngineError(
        "config_invalid",
        `the teacher key file ${spec.keyFile} is readable by others (mode ${mode.toString(8)}): it must be 0600`,
        { field },
      );
    return readFileSync(spec.keyFile, "utf8").trim() || undefined;
  }
  return env.DISTILLERY_TEACHER_API_KEY || undefined;
}

export function createEndpointTeacher(
  spec: NonNullable<EngineJob["paths"]["teacherEndpoint"]>,
  k: number,
  options: {
    env?: Record<string, string | undefined>;
    limiter?: RateLimiter;
    onRetry?: (message: string) => void;
  } = {},
): EndpointTeacher {
  const apiKey = readTeacherKey(spec, options.env);
  const endpoint: TeacherEndpoint = {
    name: spec.name,
    baseUrl: spec.baseUrl,
    api: "openai",
    model: spec.model,
    ...(apiKey ? { apiKey } : {}),
  };
  const limiter = options.limiter ?? createRateLimiter({ requestsPerMinute: spec.requestsPerMinute });
  return {
    endpoint,
    k,
    async score(sequences, signal) {
      const out: ScoredPosition[][] = [];
      for (let i = 0; i < sequences.length; i += REQUEST_ROWS) {
        try {
          out.push(
            ...(await scoreWithRetries(endpoint, sequences.slice(i, i + REQUEST_ROWS), k, {
              signal,
              limiter,
              onRetry: (e, ms) => options.onRetry?.(`${e.message}; retrying in ${ms} ms`),
            })),
          );
        } catch (e) {
          if (e instanceof TeacherError && e.kind === "aborted")
            throw new EngineError("cancelled", "training was cancelled");
          // TeacherError messages name the teacher and never carry the key
          throw new EngineError(
            e instanceof TeacherError && e.kind === "not_a_teacher" ? "config_invalid" : "teacher_failed",
            (e as Error).message,
            { field },
          );
        }
      }
      return out;
    },
  };
}

/**
 * The distillation context of a run whose teacher is an endpoint: no teacher weights, the
 * endpoint's top-k (the run's topK, default 20) in their place.
 */
export function loadEndpointDistill(
  d: DistillationConfig,
  spec: EngineJob["paths"]["teacherEndpoint"],
  options: { env?: Record<string, string | undefined>; onRetry?: (message: string) => void } = {},
): { ctx: DistillContext; teacher: EndpointTeacher } {
  if (d.mode !== "logit" && d.mode !== "on-policy")
    throw new EngineError("config_invalid", `a teacher endpoint cannot be a ${d.mode} teacher`, { field });
  if (!spec)
    throw new EngineError("config_invalid", "the teacher endpoint was not resolved for this run", { field });
  const k = d.topK ?? DEFAULT_ENDPOINT_TOP_K;
  const teacher = createEndpointTeacher(spec, k, options);
  return {
    teacher,
    ctx: {
      mode: d.mode,
      teacher: null,
      stored: null,
      feature: null,
      beta: resolveDistillationBeta(d),
      temperature: d.temperature,
      alpha: d.mode === "on-policy" && d.lmbda === 1 ? 0 : d.alpha,
      topK: k,
      lmbda: d.lmbda,
      maxNewTokens: d.maxNewTokens,
      samplingTemperature: d.samplingTemperature,
      release: () => {},
    },
  };
}

/**
 * The teacher's top-k distribution of a collated micro-batch from the endpoint's scores of its
 * rows, laid out as storedTeacherTopK lays out stored logits (position t of an example predicts
 * ids[t + 1]: the endpoint's score of position t + 1).
 */
export async function endpointTeacherTopK(
  teacher: EndpointTeacher,
  rows: (TokenizedExample | TokenizedExample[])[],
  batch: Batch,
  k: number,
  signal?: AbortSignal,
): Promise<{ dist: TeacherDistribution; teacherLogprobSum: number }> {
  const examples = rows.flatMap((r) => (Array.isArray(r) ? r : [r]));
  const scores = await teacher.score(
    examples.map((e) => e.ids),
    signal,
  );
  // an endpoint may return fewer alternatives than asked (a vocabulary under k): the batch
  // keeps as many as every position has
  let kk = Math.min(k, teacher.k);
  for (const s of scores) for (const pos of s) kk = Math.min(kk, pos.top.length);
  if (kk < 1)
    throw new EngineError(
      "teacher_failed",
      `teacher "${teacher.endpoint.name}" returned no top log-probabilities`,
      {
        field,
      },
    );
  const { seq, targets } = batch;
  const ids = new Int32Array(rows.length * seq * kk);
  const logprobs = new Float32Array(rows.length * seq * kk);
  let teacherLogprobSum = 0;
  let n = 0;
  rows.forEach((row, b) => {
    let start = 0;
    for (const e of Array.isArray(row) ? row : [row]) {
      const s = scores[n++] as ScoredPosition[];
      for (let t = 0; t + 1 < e.ids.length; t++) {
        const at = b * seq + start + t;
        if ((targets[at] as number) < 0) continue;
        const pos = s[t] as ScoredPosition;
        teacherLogprobSum += pos.logprob;
        for (let j = 0; j < kk; j++) {
          const top = pos.top[j] as [number, number];
          ids[at * kk + j] = top[0];
          logprobs[at * kk + j] = top[1];
        }
      }
      start += e.ids.length - 1;
    }
  });
  return { dist: { kind: "topk", k: kk, ids, logprobs }, teacherLogprobSum };
}

/**
 * One optimizer step's distillation input with an endpoint teacher, prepared before the step
 * (the endpoint answers asynchronously; the step itself is synchronous): for on-policy the
 * GKD coin per micro-batch and the student's samples, then the endpoint's top-k of every
 * micro-batch the step trains on.
 */
export function createEndpointDistillStep(
  ctx: DistillContext,
  teacher: EndpointTeacher,
  model: LlamaModel,
  opts: { stopTokenIds: number[]; padId: number; completionOnly: boolean; maxLen: number; seed: number },
): (
  step: number,
  microRows: (TokenizedExample | TokenizedExample[])[][],
  batches: Batch[],
  signal?: AbortSignal,
) => Promise<DistillStep & { teacherLogprob: number | null }> {
  const k = ctx.topK ?? teacher.k;
  return async (step, microRows, batches, signal) => {
    const replaced: ({ batch: Batch; sampledLength: number } | null)[] = [];
    const trainedRows: (TokenizedExample | TokenizedExample[])[][] = [];
    batches.forEach((_b, i) => {
      const rows = microRows[i] as (TokenizedExample | TokenizedExample[])[];
      const onPolicy =
        ctx.mode === "on-policy"
          ? sampleOnPolicyBatch(
              model,
              (rows as TokenizedExample[]).map((e) => ({
                ids: e.ids.slice(0, e.completionStart),
                completionStart: e.completionStart,
              })),
              ctx,
              { ...opts, step, microBatch: i },
            )
          : null;
      replaced.push(onPolicy && { batch: onPolicy.batch, sampledLength: onPolicy.sampledLength });
      trainedRows.push(onPolicy ? onPolicy.sampled : rows);
    });
    const dists: TeacherDistribution[] = [];
    let lpSum = 0;
    let counted = 0;
    for (let i = 0; i < batches.length; i++) {
      const batch = replaced[i]?.batch ?? (batches[i] as Batch);
      const rows = trainedRows[i] as (TokenizedExample | TokenizedExample[])[];
      const { dist, teacherLogprobSum } = await endpointTeacherTopK(teacher, rows, batch, k, signal);
      dists.push(dist);
      lpSum += teacherLogprobSum;
      counted += batch.counted;
    }
    return {
      ctx,
      onPolicyBatch: ctx.mode === "on-policy" ? (i) => replaced[i] ?? null : undefined,
      storedTeacher: (i) => dists[i] as TeacherDistribution,
      teacherLogprob: counted ? lpSum / counted : null,
    };
  };
}
