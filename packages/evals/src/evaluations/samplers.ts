import { renderChat } from "@distillery/core";
import type { Db } from "@distillery/db";
import { createCompletion, type ModelPool } from "@distillery/inference";
import {
  DEFAULT_RETRY_POLICY,
  estimateTokens,
  type RetryPolicy,
  requestCompletion,
  TeacherError,
  withRetries,
} from "@distillery/teacher";
import { loadTeacherEndpoint } from "@distillery/teacher/store";
import type { EvalProblem } from "./load-eval-set.ts";
import type { EvalSettings } from "./schemas.ts";

export { TEACHER_MODEL_PREFIX, teacherIdOf } from "./schemas.ts";

/** One sample of an example: the text with its reasoning inline (`<think>…</think>answer`). */
export interface Sample {
  text: string;
  finishReason: string;
  completionTokens: number;
}

/** What answers an evaluation's examples: a served model, or a teacher endpoint. */
export interface Sampler {
  /** tokens of a piece of text (the model's tokenizer; an estimate for a teacher) */
  count(text: string): number;
  /** k samples of one example */
  sample(problem: EvalProblem, settings: EvalSettings, seed: number, signal: AbortSignal): Promise<Sample[]>;
}

/** A model of the studio, through the same model pool and completion code as /v1 (batched). */
export async function createServedModelSampler(pool: ModelPool, modelId: string): Promise<Sampler> {
  const model = await pool.acquire(modelId);
  const count = (text: string) => (text ? model.tokenizer.encode(text, false).length : 0);
  return {
    count,
    async sample(problem, settings, seed, signal) {
      const prompt = renderChat(model.template, problem.messages, { addGenerationPrompt: true });
      const completion = (await createCompletion({
        kind: "text",
        model,
        modelId,
        prompts: [prompt],
        maxTokens: settings.maxTokens,
        temperature: settings.temperature,
        topP: settings.topP,
        n: settings.k,
        seed,
        stop: [],
        topLogprobs: -1,
        reasoningFormat: "raw",
        stream: false,
        includeUsage: false,
        signal,
      })) as { choices: { text: string; finish_reason: string }[] };
      return completion.choices.map((c) => ({
        text: c.text,
        finishReason: c.finish_reason,
        completionTokens: count(c.text),
      }));
    },
  };
}

/** A teacher's answer as one text, its reasoning inline the way a local model writes it. */
export function inlineReasoning(reasoning: string | null, answer: string): string {
  return reasoning === null ? answer : `<think>\n${reasoning}\n</think>\n\n${answer}`;
}

/**
 * A teacher endpoint of the workspace (the teachers' own client: OpenAI-compatible or ollama,
 * retries with backoff, the key opened only here). k samples are k requests. Token counts are
 * the server's usage when it reports it, else estimated from characters (a teacher's tokenizer
 * is not here).
 */
export async function createTeacherSampler(
  db: Db,
  secretKey: Buffer | undefined,
  workspaceId: string,
  teacherId: string,
  options: { retry?: RetryPolicy; idleTimeoutMs?: number } = {},
): Promise<Sampler> {
  if (!secretKey) throw new Error("model: teacher evaluations need the studio's secret key");
  const endpoint = await loadTeacherEndpoint(db, secretKey, workspaceId, teacherId);
  if (!endpoint) throw new Error(`model: teacher ${teacherId} does not exist in this workspace`);
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const one = async (problem: EvalProblem, settings: EvalSettings, signal: AbortSignal): Promise<Sample> => {
    const outcome = await withRetries(
      () =>
        requestCompletion(
          endpoint,
          problem.messages.map((m) => ({ role: m.role, content: m.content })),
          {
            temperature: settings.temperature,
            topP: settings.topP,
            maxTokens: settings.maxTokens,
            instruction: "",
          },
          {
            stream: true,
            signal,
            ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
          },
        ),
      { policy, signal },
    );
    if (!outcome.value)
      throw outcome.error ?? new TeacherError("network", `teacher "${endpoint.name}" failed`);
    const c = outcome.value;
    const text = inlineReasoning(c.reasoning, c.answer);
    return {
      text,
      finishReason: c.finishReason ?? "stop",
      completionTokens: c.usage.isEstimated ? estimateTokens(text) : c.usage.completionTokens,
    };
  };
  return {
    count: (text) => (text ? estimateTokens(text) : 0),
    async sample(problem, settings, _seed, signal) {
      return Promise.all(Array.from({ length: settings.k }, () => one(problem, settings, signal)));
    },
  };
}
