import { z } from "zod";

/**
 * Request bodies of the OpenAI-compatible API (client-safe: the playground builds them too).
 * Unknown fields are ignored, as OpenAI-compatible servers do; known ones are checked so that
 * an error names the field.
 */
const ZStop = z.union([z.string(), z.array(z.string()).max(4, "at most 4 stop sequences")]).nullish();
const ZSampling = {
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  seed: z.number().int().nullish(),
  stop: ZStop,
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: z.number().int().min(1, "max_tokens must be at least 1").nullish(),
  user: z.string().nullish(),
  /** vLLM's extension: keep generating past end-of-sequence tokens (benchmarks, fixed lengths) */
  ignore_eos: z.boolean().nullish(),
};

const ZContentPart = z.object({ type: z.literal("text"), text: z.string() });
export const ZChatMessage = z.object({
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z.union([z.string(), z.array(ZContentPart)]).nullish(),
  name: z.string().nullish(),
});
export type ChatMessage = z.infer<typeof ZChatMessage>;

export const ZChatCompletionRequest = z.object({
  model: z.string().min(1, "model is required"),
  messages: z.array(ZChatMessage).min(1, "messages must hold at least one message"),
  ...ZSampling,
  max_completion_tokens: z.number().int().min(1, "max_completion_tokens must be at least 1").nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  /**
   * Where the `<think>` part goes: "parsed" (default) → `reasoning_content`, as vLLM's reasoning
   * parser; "raw" → inline in `content`; "hidden" → dropped.
   */
  reasoning_format: z.enum(["parsed", "raw", "hidden"]).nullish(),
});
export type ChatCompletionRequest = z.infer<typeof ZChatCompletionRequest>;

export const ZCompletionRequest = z.object({
  model: z.string().min(1, "model is required"),
  /** text, several texts, token ids, or several lists of token ids (as vLLM accepts) */
  prompt: z.union([
    z.string(),
    z.array(z.string()).min(1).max(16),
    z.array(z.number().int().min(0)).min(1),
    z.array(z.array(z.number().int().min(0)).min(1)).min(1).max(16),
  ]),
  ...ZSampling,
  /** legacy completions: how many alternatives per token (0..5) */
  logprobs: z.number().int().min(0).max(5).nullish(),
  /**
   * vLLM's extension: per prompt token (after the first) the k most likely tokens and the
   * prompt token itself, as `choices[i].prompt_logprobs` (the first entry null)
   */
  prompt_logprobs: z.number().int().min(0, "prompt_logprobs must be 0 or more").max(1000).nullish(),
  echo: z.boolean().nullish(),
});
export type CompletionRequest = z.infer<typeof ZCompletionRequest>;

/** A message's text (content parts joined). */
export function messageText(m: ChatMessage): string {
  if (typeof m.content === "string") return m.content;
  return (m.content ?? []).map((p) => p.text).join("");
}

/** vLLM's /tokenize for a completion prompt (served at the server root, beside /v1) */
export const ZTokenizeRequest = z.object({
  model: z.string().min(1, "model is required"),
  prompt: z.string(),
  add_special_tokens: z.boolean().nullish(),
  return_token_strs: z.boolean().nullish(),
});
export type TokenizeRequest = z.infer<typeof ZTokenizeRequest>;
