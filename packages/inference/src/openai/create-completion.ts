import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { renderChat } from "@distillery/core";
import type { GenerateRequest } from "../engine/engine-backend.ts";
import type { PromptTokenScore } from "../engine/score-prompt.ts";
import type { LoadedModel } from "../pool/model-pool.ts";
import { OpenAiError } from "./openai-error.ts";
import { type ChatCompletionRequest, type CompletionRequest, messageText } from "./openai-schemas.ts";
import { type ChoiceDelta, type ChoiceUsage, mergeGenerators, runChoice } from "./run-choice.ts";

export interface CompletionInput {
  kind: "chat" | "text";
  model: LoadedModel;
  /** the public model id echoed back */
  modelId: string;
  prompts: string[];
  /** prompts given as token ids (vLLM accepts these): used instead of `prompts` */
  promptIds?: number[][];
  /** vLLM's `prompt_logprobs` (k); -1: none */
  promptLogprobs?: number;
  maxTokens: number | null;
  temperature: number;
  topP: number;
  n: number;
  seed: number | null;
  stop: string[];
  /** -1: none */
  topLogprobs: number;
  reasoningFormat: "parsed" | "raw" | "hidden";
  /** generate past the tokenizer's end-of-sequence tokens */
  ignoreEos?: boolean;
  stream: boolean;
  includeUsage: boolean;
  signal?: AbortSignal;
}

/** The chat template applied like transformers' apply_chat_template(add_generation_prompt=True). */
export function renderChatPrompt(model: LoadedModel, req: ChatCompletionRequest): string {
  const messages = req.messages.map((m) => ({
    role: m.role === "developer" ? ("system" as const) : m.role,
    content: messageText(m),
  }));
  return renderChat(model.template, messages, { addGenerationPrompt: true });
}

export function chatInput(
  model: LoadedModel,
  modelId: string,
  req: ChatCompletionRequest,
  signal?: AbortSignal,
): CompletionInput {
  if (req.top_logprobs != null && !req.logprobs)
    throw new OpenAiError(400, "top_logprobs needs logprobs: true", "top_logprobs", "invalid_value");
  return {
    kind: "chat",
    model,
    modelId,
    prompts: [renderChatPrompt(model, req)],
    maxTokens: req.max_completion_tokens ?? req.max_tokens ?? null,
    temperature: req.temperature ?? 1,
    topP: req.top_p ?? 1,
    n: req.n ?? 1,
    seed: req.seed ?? null,
    stop: req.stop == null ? [] : typeof req.stop === "string" ? [req.stop] : req.stop,
    topLogprobs: req.logprobs ? (req.top_logprobs ?? 0) : -1,
    reasoningFormat: req.reasoning_format ?? "parsed",
    ignoreEos: req.ignore_eos ?? false,
    stream: req.stream ?? false,
    includeUsage: req.stream_options?.include_usage ?? false,
    signal,
  };
}

export function textInput(
  model: LoadedModel,
  modelId: string,
  req: CompletionRequest,
  signal?: AbortSignal,
): CompletionInput {
  if (req.echo) throw new OpenAiError(400, "echo is not supported", "echo", "unsupported_value");
  if (req.prompt_logprobs != null && req.stream)
    throw new OpenAiError(
      400,
      "prompt_logprobs is not available with stream: true",
      "prompt_logprobs",
      "unsupported_value",
    );
  const p = req.prompt;
  const promptIds =
    typeof p === "string" || typeof p[0] === "string"
      ? undefined
      : typeof p[0] === "number"
        ? [p as number[]]
        : (p as number[][]);
  if (promptIds) {
    const vocab = model.backend.vocabSize;
    promptIds.forEach((ids, i) => {
      const bad = ids.findIndex((id) => id >= vocab);
      if (bad >= 0)
        throw new OpenAiError(
          400,
          `prompt${promptIds.length > 1 ? `[${i}]` : ""}[${bad}] is token id ${ids[bad]}, past the model's vocabulary of ${vocab}`,
          "prompt",
          "invalid_value",
        );
    });
  }
  return {
    kind: "text",
    model,
    modelId,
    prompts: promptIds ? [] : typeof p === "string" ? [p] : (p as string[]),
    ...(promptIds ? { promptIds } : {}),
    promptLogprobs: req.prompt_logprobs ?? -1,
    maxTokens: req.max_tokens ?? 16,
    temperature: req.temperature ?? 1,
    topP: req.top_p ?? 1,
    n: req.n ?? 1,
    seed: req.seed ?? null,
    stop: req.stop == null ? [] : typeof req.stop === "string" ? [req.stop] : req.stop,
    topLogprobs: req.logprobs == null ? -1 : req.logprobs,
    reasoningFormat: "raw",
    ignoreEos: req.ignore_eos ?? false,
    stream: req.stream ?? false,
    includeUsage: req.stream_options?.include_usage ?? false,
    signal,
  };
}

interface Prepared {
  requests: { index: number; request: GenerateRequest; insideThink: boolean }[];
}

/** the prompts as token ids with their text (text prompts are tokenized, id prompts decoded) */
export function promptsOf(
  input: Pick<CompletionInput, "kind" | "model" | "prompts" | "promptIds">,
): { ids: number[]; text: string }[] {
  const { tokenizer } = input.model;
  if (input.promptIds)
    return input.promptIds.map((ids) => ({
      ids,
      text: tokenizer.decode(
        ids.filter((id) => id < tokenizer.vocabSize),
        false,
      ),
    }));
  // a chat prompt is template output that placed BOS itself (Llama's `{{ bos_token }}`): no
  // special tokens of the tokenizer's own, as vLLM's chat endpoint and apply_chat_template; a raw
  // completion prompt gets them, as vLLM's /v1/completions does by default
  const addSpecialTokens = input.kind !== "chat";
  return input.prompts.map((text) => ({ ids: tokenizer.encode(text, addSpecialTokens), text }));
}

/** Tokenizes, checks the context, and lays out prompts × n choices with their seeds. */
function prepare(input: CompletionInput): Prepared {
  const { model } = input;
  const context = model.backend.contextLength;
  const param = input.kind === "chat" ? "messages" : "prompt";
  const requests: Prepared["requests"] = [];
  const baseSeed = input.seed ?? randomBytes(4).readUInt32LE(0);
  promptsOf(input).forEach(({ ids: promptIds, text: prompt }, p) => {
    if (promptIds.length === 0)
      throw new OpenAiError(400, `${param} is empty after tokenization`, param, "invalid_value");
    if (promptIds.length >= context)
      throw new OpenAiError(
        400,
        `This model's maximum context length is ${context} tokens. However, your ${param} resulted in ${promptIds.length} tokens. Please reduce the length of the ${param}.`,
        param,
        "context_length_exceeded",
      );
    const room = context - promptIds.length;
    const maxTokens = Math.min(input.maxTokens ?? room, room);
    const insideThink = /<think>\s*$/.test(prompt);
    for (let j = 0; j < input.n; j++)
      requests.push({
        index: p * input.n + j,
        insideThink,
        request: {
          promptIds,
          maxTokens,
          temperature: input.temperature,
          topP: input.topP,
          seed: (baseSeed + p * 1_000_003 + j * 7919) >>> 0,
          topLogprobs: input.topLogprobs,
          stopTokenIds: input.ignoreEos ? [] : model.tokenizer.stopTokenIds,
          ...(input.promptLogprobs !== undefined && input.promptLogprobs >= 0
            ? { promptLogprobs: input.promptLogprobs }
            : {}),
        },
      });
  });
  return { requests };
}

function startChoices(
  input: CompletionInput,
  prepared: Prepared,
  usages: ChoiceUsage[],
  signal: AbortSignal,
  promptScores?: PromptTokenScore[][],
) {
  return prepared.requests.map(({ index, request, insideThink }) =>
    runChoice(input.model, {
      index,
      request,
      stop: input.stop,
      reasoning:
        input.kind === "text" || input.reasoningFormat === "raw"
          ? "none"
          : insideThink
            ? "split-inside"
            : "split",
      withLogprobs: input.topLogprobs >= 0,
      signal,
      onUsage: (u) => usages.push(u),
      onPromptScores: promptScores
        ? (scores) => {
            promptScores[index] = scores;
          }
        : undefined,
    }),
  );
}

function usageOf(usages: ChoiceUsage[], promptTokens: number) {
  const completion = usages.reduce((s, u) => s + u.completionTokens, 0);
  const reasoning = usages.reduce((s, u) => s + u.reasoningTokens, 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    completion_tokens_details: { reasoning_tokens: reasoning },
  };
}

function promptTokensOf(prepared: Prepared, n: number): number {
  return prepared.requests.filter((_, i) => i % n === 0).reduce((s, r) => s + r.request.promptIds.length, 0);
}

/** The legacy completions logprobs object for a list of token logprobs. */
function legacyLogprobs(entries: ChoiceDelta["logprobs"], offset0: number) {
  let offset = offset0;
  const textOffset: number[] = [];
  for (const e of entries) {
    textOffset.push(offset);
    offset += e.token.length;
  }
  return {
    tokens: entries.map((e) => e.token),
    token_logprobs: entries.map((e) => e.logprob),
    top_logprobs: entries.map((e) => Object.fromEntries(e.top_logprobs.map((t) => [t.token, t.logprob]))),
    text_offset: textOffset,
  };
}

/**
 * vLLM's `prompt_logprobs` of one choice: null for the first prompt token, then per token a map
 * token id → {logprob, rank, decoded_token} holding the k most likely tokens and the prompt
 * token itself (k + 1 entries when it is not among them).
 */
function promptLogprobsOf(model: LoadedModel, scores: PromptTokenScore[] | undefined) {
  const { tokenizer } = model;
  const text = (id: number) => (id < tokenizer.vocabSize ? tokenizer.decode([id], false) : "");
  const out: (Record<string, { logprob: number; rank: number; decoded_token: string }> | null)[] = [null];
  for (const s of scores ?? []) {
    const entry: Record<string, { logprob: number; rank: number; decoded_token: string }> = {};
    entry[String(s.token)] = { logprob: s.logprob, rank: s.rank, decoded_token: text(s.token) };
    s.top.forEach(([id, logprob], r) => {
      entry[String(id)] = { logprob, rank: r + 1, decoded_token: text(id) };
    });
    out.push(entry);
  }
  return out;
}

/** A whole (non-streamed) completion object. */
export async function createCompletion(input: CompletionInput): Promise<Record<string, unknown>> {
  const prepared = prepare(input);
  const usages: ChoiceUsage[] = [];
  const controller = new AbortController();
  // every choice listens on it (up to 16 prompts × n): not a leak, no warning
  setMaxListeners(prepared.requests.length + 10, controller.signal);
  const onAbort = () => controller.abort();
  input.signal?.addEventListener("abort", onAbort, { once: true });
  const wantsPrompt = input.promptLogprobs !== undefined && input.promptLogprobs >= 0;
  const promptScores: PromptTokenScore[][] | undefined = wantsPrompt ? [] : undefined;
  const acc = prepared.requests.map(() => ({
    content: "",
    reasoning: "",
    logprobs: [] as ChoiceDelta["logprobs"],
    finish: "stop",
  }));
  try {
    for await (const d of mergeGenerators(
      startChoices(input, prepared, usages, controller.signal, promptScores),
    )) {
      const a = acc[d.index];
      if (!a) continue;
      a.content += d.content;
      a.reasoning += d.reasoning;
      a.logprobs.push(...d.logprobs);
      if (d.finishReason) a.finish = d.finishReason;
    }
  } finally {
    input.signal?.removeEventListener("abort", onAbort);
  }
  const created = Math.floor(Date.now() / 1000);
  const usage = usageOf(usages, promptTokensOf(prepared, input.n));
  if (input.kind === "text")
    return {
      id: `cmpl-${randomBytes(12).toString("hex")}`,
      object: "text_completion",
      created,
      model: input.modelId,
      choices: acc.map((a, index) => ({
        index,
        text: a.content,
        logprobs: input.topLogprobs >= 0 ? legacyLogprobs(a.logprobs, 0) : null,
        finish_reason: a.finish,
        ...(promptScores ? { prompt_logprobs: promptLogprobsOf(input.model, promptScores[index]) } : {}),
      })),
      usage,
    };
  return {
    id: `chatcmpl-${randomBytes(12).toString("hex")}`,
    object: "chat.completion",
    created,
    model: input.modelId,
    choices: acc.map((a, index) => ({
      index,
      message: {
        role: "assistant",
        content: a.content,
        ...(input.reasoningFormat === "parsed" ? { reasoning_content: a.reasoning || null } : {}),
      },
      logprobs: input.topLogprobs >= 0 ? { content: a.logprobs } : null,
      finish_reason: a.finish,
    })),
    usage,
  };
}

/**
 * A streamed completion as SSE (`data: {chunk}\n\n` … `data: [DONE]\n\n`). Cancelling the
 * stream (the client went away) aborts every choice, which frees their batch slots at once.
 * Errors are checked before the stream starts, so a bad request still gets a plain 4xx.
 */
export function streamCompletion(input: CompletionInput): ReadableStream<Uint8Array> {
  const prepared = prepare(input);
  const usages: ChoiceUsage[] = [];
  const controller = new AbortController();
  // every choice listens on it (up to 16 prompts × n): not a leak, no warning
  setMaxListeners(prepared.requests.length + 10, controller.signal);
  const onAbort = () => controller.abort();
  input.signal?.addEventListener("abort", onAbort, { once: true });
  const id = `${input.kind === "chat" ? "chatcmpl" : "cmpl"}-${randomBytes(12).toString("hex")}`;
  const created = Math.floor(Date.now() / 1000);
  const encoder = new TextEncoder();
  const base = {
    id,
    object: input.kind === "chat" ? "chat.completion.chunk" : "text_completion",
    created,
    model: input.modelId,
  };
  const offsets = prepared.requests.map(() => 0);
  const chunkOf = (d: ChoiceDelta | null, first = false) => {
    if (!d) return null;
    if (input.kind === "text") {
      const lp = input.topLogprobs >= 0 ? legacyLogprobs(d.logprobs, offsets[d.index] ?? 0) : null;
      offsets[d.index] = (offsets[d.index] ?? 0) + d.content.length;
      return {
        ...base,
        choices: [{ index: d.index, text: d.content, logprobs: lp, finish_reason: d.finishReason ?? null }],
      };
    }
    const delta: Record<string, string> = {};
    if (first) delta.role = "assistant";
    if (d.content || first) delta.content = d.content;
    if (d.reasoning && input.reasoningFormat === "parsed") delta.reasoning_content = d.reasoning;
    return {
      ...base,
      choices: [
        {
          index: d.index,
          delta,
          logprobs: input.topLogprobs >= 0 ? { content: d.logprobs } : null,
          finish_reason: d.finishReason ?? null,
        },
      ],
    };
  };
  let iterator: AsyncGenerator<ChoiceDelta> | null = null;
  const started = new Set<number>();
  return new ReadableStream<Uint8Array>({
    async pull(sink) {
      const send = (obj: unknown) => sink.enqueue(encoder.encode(`data: ${JSON.stringify(obj)}\n\n`));
      iterator ??= mergeGenerators(startChoices(input, prepared, usages, controller.signal));
      try {
        const next = await iterator.next();
        if (next.done) {
          if (input.includeUsage)
            send({ ...base, choices: [], usage: usageOf(usages, promptTokensOf(prepared, input.n)) });
          sink.enqueue(encoder.encode("data: [DONE]\n\n"));
          input.signal?.removeEventListener("abort", onAbort);
          sink.close();
          return;
        }
        const d = next.value;
        const first = !started.has(d.index);
        started.add(d.index);
        const hidden =
          input.kind === "chat" &&
          input.reasoningFormat === "hidden" &&
          !d.content &&
          !d.finishReason &&
          !first;
        if (!hidden) send(chunkOf(d, first));
      } catch (e) {
        const err =
          e instanceof OpenAiError
            ? e
            : new OpenAiError(500, (e as Error).message, null, "generation_failed");
        send(err.toJSON());
        sink.enqueue(encoder.encode("data: [DONE]\n\n"));
        sink.close();
      }
    },
    async cancel() {
      controller.abort();
      input.signal?.removeEventListener("abort", onAbort);
      await iterator?.return(undefined);
    },
  });
}
