import { splitReasoning } from "@distillery/core";

/** Where the reasoning came back: a separate field, ollama's thinking, inline tags, or nowhere. */
export type ReasoningSource = "reasoning_content" | "reasoning" | "thinking" | "inline" | "none";

export interface CompletionUsage {
  promptTokens: number;
  completionTokens: number;
  /** when the server reports it (OpenAI's completion_tokens_details.reasoning_tokens) */
  reasoningTokens?: number;
  /** true when the server sent no usage and the counts are estimated from characters */
  isEstimated?: boolean;
}

export interface NormalizedCompletion {
  /** reasoning text without think tags; null when the teacher gave none */
  reasoning: string | null;
  answer: string;
  /** "stop", "length" (truncated), … as the server said; null when it said nothing */
  finishReason: string | null;
  usage: CompletionUsage;
  reasoningSource: ReasoningSource;
  /** "ok", "missing" (no reasoning), "unclosed" (inline `<think>` never closed), "separate" */
  think: "ok" | "missing" | "unclosed" | "separate";
}

/** The assistant message fields any server uses for the text and the reasoning. */
export interface RawMessage {
  content?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  thinking?: string | null;
}

interface OpenAiUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

/** An OpenAI-compatible chat completion body (or the same assembled from SSE deltas). */
export interface OpenAiCompletionBody {
  choices?: { message?: RawMessage | null; finish_reason?: string | null }[];
  usage?: OpenAiUsage | null;
}

/** An ollama /api/chat body (or the same assembled from NDJSON lines). */
export interface OllamaChatBody {
  message?: RawMessage | null;
  done?: boolean;
  done_reason?: string | null;
  prompt_eval_count?: number;
  eval_count?: number;
}

const nonEmpty = (s: string | null | undefined): s is string => typeof s === "string" && s.trim() !== "";

/** Roughly four characters a token, for servers that report no usage. */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

function readUsage(
  reported: { prompt?: number; completion?: number; reasoning?: number },
  texts: { prompt?: number; reasoning: string | null; answer: string },
): CompletionUsage {
  if (reported.prompt === undefined && reported.completion === undefined) {
    const reasoningTokens = estimateTokens(texts.reasoning ?? "");
    return {
      promptTokens: texts.prompt ?? 0,
      completionTokens: reasoningTokens + estimateTokens(texts.answer),
      reasoningTokens,
      isEstimated: true,
    };
  }
  const usage: CompletionUsage = {
    promptTokens: reported.prompt ?? 0,
    completionTokens: reported.completion ?? 0,
  };
  if (reported.reasoning !== undefined) usage.reasoningTokens = reported.reasoning;
  return usage;
}

/**
 * The one normaliser: any teacher's answer, streamed or not, becomes {reasoning, answer,
 * finishReason, usage}. The reasoning is read wherever the server put it, in this order:
 * `reasoning_content` (DeepSeek API; vLLM / SGLang with a reasoning parser), `reasoning`
 * (newer vLLM, OpenRouter), `thinking` (ollama with think: true), else inline `<think>…</think>`
 * in the content — also a block the chat template opened (only `</think>` in the content) and
 * an unclosed `<think>` when the answer was cut. Teacher text is untrusted and only read here.
 */
export function normalizeCompletion(
  body: OpenAiCompletionBody | OllamaChatBody,
  options: { promptTokensEstimate?: number } = {},
): NormalizedCompletion | null {
  let message: RawMessage | null | undefined;
  let finishReason: string | null;
  let reported: { prompt?: number; completion?: number; reasoning?: number };
  if ("choices" in body && Array.isArray(body.choices)) {
    const choice = body.choices[0];
    if (!choice) return null;
    message = choice.message;
    finishReason = choice.finish_reason ?? null;
    const u = body.usage ?? undefined;
    reported = {};
    if (typeof u?.prompt_tokens === "number") reported.prompt = u.prompt_tokens;
    if (typeof u?.completion_tokens === "number") reported.completion = u.completion_tokens;
    const r = u?.completion_tokens_details?.reasoning_tokens;
    if (typeof r === "number") reported.reasoning = r;
  } else if ("message" in body) {
    const b = body as OllamaChatBody;
    message = b.message;
    finishReason = b.done_reason ?? (b.done ? "stop" : null);
    reported = {};
    if (typeof b.prompt_eval_count === "number") reported.prompt = b.prompt_eval_count;
    if (typeof b.eval_count === "number") reported.completion = b.eval_count;
  } else {
    return null;
  }
  if (!message) return null;
  const content = message.content ?? "";
  const separate: [ReasoningSource, string | null | undefined][] = [
    ["reasoning_content", message.reasoning_content],
    ["reasoning", message.reasoning],
    ["thinking", message.thinking],
  ];
  const found = separate.find(([, text]) => nonEmpty(text));
  let reasoning: string | null;
  let answer: string;
  let reasoningSource: ReasoningSource;
  let think: NormalizedCompletion["think"];
  if (found) {
    reasoningSource = found[0];
    reasoning = (found[1] as string).trim();
    // some servers also echo an empty think block in the content: drop it
    answer = content.replace(/^\s*<think>\s*<\/think>/, "").trim();
    think = "separate";
  } else {
    const split = splitReasoning(content);
    reasoning = split.reasoning;
    answer = split.answer;
    reasoningSource = split.status === "missing" ? "none" : "inline";
    think = split.status;
  }
  const texts: { prompt?: number; reasoning: string | null; answer: string } = { reasoning, answer };
  if (options.promptTokensEstimate !== undefined) texts.prompt = options.promptTokensEstimate;
  return { reasoning, answer, finishReason, usage: readUsage(reported, texts), reasoningSource, think };
}
