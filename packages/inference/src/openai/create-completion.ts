import { randomBytes } from "node:crypto";
import { renderChat } from "@distillery/core";
import type { GenerateRequest } from "../engine/engine-backend.ts";
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
  return {
    kind: "text",
    model,
    modelId,
    prompts: typeof req.prompt === "string" ? [req.prompt] : req.prompt,
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

/** Tokenizes, checks the context, and lays out prompts × n choices with their seeds. */
function prepare(input: CompletionInput): Prepared {
  const { model } = input;
  const context = model.backend.contextLength;
  const param = input.kind === "chat" ? "messages" : "prompt";
  const requests: Prepared["requests"] = [];
  const baseSeed = input.seed ?? randomBytes(4).readUInt32LE(0);
  input.prompts.forEach((prompt, p) => {
    const promptIds = model.tokenizer.encode(prompt, true);
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

/** A whole (non-streamed) completion object. */
export async function createCompletion(input: CompletionInput): Promise<Record<string, unknown>> {
  const prepared = prepare(input);
  const usages: ChoiceUsage[] = [];
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  input.signal?.addEventListener("abort", onAbort, { once: true });
  const acc = prepared.requests.map(() => ({
    content: "",
    reasoning: "",
    logprobs: [] as ChoiceDelta["logprobs"],
    finish: "stop",
  }));
  try {
    for await (const d of mergeGenerators(startChoices(input, prepared, usages, controller.signal))) {
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
