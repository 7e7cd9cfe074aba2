import { z } from "zod";

/**
 * The one shape every imported row becomes. The conversation before the final assistant turn
 * lives in `messages` (ending with a user turn); the final assistant turn is split into
 * `reasoning` (the text inside `<think>…</think>`, without the tags) and `answer`.
 */
export const ZChatMessage = z.object({
  role: z.enum(["user", "assistant"]),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ZChatMessage>;

export const ZCanonicalExample = z.object({
  system: z.string().optional(),
  messages: z
    .array(ZChatMessage)
    .min(1, "an example needs at least one user message")
    .refine((m) => m[m.length - 1]?.role === "user", "the last message before the answer must be the user's"),
  /** reasoning text without think tags; null when the row has none */
  reasoning: z.string().nullable(),
  answer: z.string(),
  /** the row's reference answer (for answer-match filters), when mapped */
  reference: z.string().optional(),
  /** where the reasoning came from, for think-tag validity statistics */
  think: z.enum(["ok", "missing", "unclosed", "separate"]).default("ok"),
});
export type CanonicalExample = z.infer<typeof ZCanonicalExample>;
export type CanonicalExampleInput = z.input<typeof ZCanonicalExample>;

/** Plain text of the prompt side (system + every message), for search, dedupe and filters. */
export function getPromptText(example: CanonicalExample): string {
  const parts = example.system ? [example.system] : [];
  for (const m of example.messages) parts.push(m.content);
  return parts.join("\n");
}

/** The last user message: what "the instruction" means for single-turn data. */
export function getLastUserMessage(example: CanonicalExample): string {
  return example.messages[example.messages.length - 1]?.content ?? "";
}
