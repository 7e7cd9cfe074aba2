import { z } from "zod";

/** A playground conversation (client-safe): shared settings, and each turn's reply per column. */
export const ZReply = z.object({
  content: z.string().max(200_000),
  reasoning: z.string().max(200_000).default(""),
  completionTokens: z.number().int().min(0).default(0),
  tokensPerSecond: z.number().min(0).default(0),
  finishReason: z.string().max(40).nullable().default(null),
});
export type Reply = z.infer<typeof ZReply>;

export const ZPlaygroundSettings = z.object({
  temperature: z.number().min(0).max(2).default(0.7),
  topP: z.number().gt(0).max(1).default(1),
  maxTokens: z.number().int().min(1).max(32_768).default(256),
  seed: z.number().int().nullable().default(null),
});
export type PlaygroundSettings = z.infer<typeof ZPlaygroundSettings>;

export const ZConversationData = z.object({
  models: z
    .array(z.string().min(1))
    .min(1, "pick at least one model")
    .max(3, "at most 3 models side by side"),
  system: z.string().max(20_000).default(""),
  settings: ZPlaygroundSettings.default({ temperature: 0.7, topP: 1, maxTokens: 256, seed: null }),
  turns: z
    .array(z.object({ user: z.string().max(100_000), replies: z.array(ZReply.nullable()).max(3) }))
    .max(500)
    .default([]),
});
export type ConversationData = z.infer<typeof ZConversationData>;

export const ZSaveConversation = z.object({
  title: z.string().trim().min(1).max(200).optional(),
  data: ZConversationData,
});

/** The messages column `col` sends: system, then each turn's user text and that column's reply. */
export function messagesFor(data: ConversationData, col: number, upToTurn = data.turns.length) {
  const messages: { role: "system" | "user" | "assistant"; content: string }[] = [];
  if (data.system.trim()) messages.push({ role: "system", content: data.system });
  data.turns.slice(0, upToTurn).forEach((t, i) => {
    messages.push({ role: "user", content: t.user });
    const reply = t.replies[col];
    if (reply && i < upToTurn - 1) messages.push({ role: "assistant", content: reply.content });
  });
  return messages;
}

/**
 * What "show the rendered prompt" renders for column `col`: the prompt the next request sends —
 * the whole history, then the message being typed (when there is one); with nothing typed, the
 * prompt the last turn was sent with.
 */
export function previewMessages(data: ConversationData, col: number, pending: string) {
  if (!pending.trim()) return messagesFor(data, col);
  return messagesFor({ ...data, turns: [...data.turns, { user: pending, replies: [] }] }, col);
}

/** Regenerate: the last turn asked again, its replies emptied for every column (null when no turn). */
export function withLastTurnCleared(data: ConversationData, empty: () => Reply): ConversationData | null {
  const last = data.turns.length - 1;
  if (last < 0) return null;
  return {
    ...data,
    turns: data.turns.map((t, i) => (i === last ? { ...t, replies: data.models.map(() => empty()) } : t)),
  };
}
