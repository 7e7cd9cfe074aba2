import { z } from "zod";
import { ZReasoningMarkers } from "./split-reasoning.ts";

/**
 * How a raw row becomes a CanonicalExample. Every built-in shape is a preset of one of two
 * mappings, so the UI's custom mapping and the detected shapes share one code path.
 */

/** a column name, or a path into it: `thinking_trajectories[0]`, `messages[-1].content`, `col[*]` */
const ZColumn = z.string().min(1, "pick a column").max(300);

/** What happens to the system prompt (a long one shared by every row is shown once, with these). */
export const ZSystemPromptChoice = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("keep") }),
  z.object({ mode: z.literal("drop") }),
  z.object({ mode: z.literal("replace"), text: z.string().max(100_000) }),
]);
export type SystemPromptChoice = z.infer<typeof ZSystemPromptChoice>;

const common = {
  /** reasoning markers inside the response; omitted: `<think>…</think>` */
  markers: ZReasoningMarkers.optional(),
  systemPrompt: ZSystemPromptChoice.optional(),
};

/** One column per field. `response` may hold `<think>…</think>` inline; `reasoning` is its own column. */
export const ZColumnsMapping = z
  .object({
    kind: z.literal("columns"),
    prompt: ZColumn,
    /** appended to the prompt after a blank line, as Alpaca's `input` is */
    input: ZColumn.optional(),
    system: ZColumn.optional(),
    /** a full assistant response, split at `</think>` */
    response: ZColumn.optional(),
    reasoning: ZColumn.optional(),
    answer: ZColumn.optional(),
    reference: ZColumn.optional(),
    ...common,
  })
  .refine((m) => m.response !== undefined || m.answer !== undefined, {
    message: "map either a response column or an answer column",
    path: ["answer"],
  });

/** A column holding a list of turns (ShareGPT, OpenAI messages). */
export const ZMessagesMapping = z.object({
  kind: z.literal("messages"),
  column: ZColumn,
  roleKey: z.string().min(1).default("role"),
  contentKey: z.string().min(1).default("content"),
  /** per-turn key holding the assistant's reasoning, e.g. `reasoning_content` */
  reasoningKey: z.string().min(1).optional(),
  system: ZColumn.optional(),
  reference: ZColumn.optional(),
  ...common,
});

export const ZDatasetMapping = z.discriminatedUnion("kind", [ZColumnsMapping, ZMessagesMapping]);
export type DatasetMapping = z.infer<typeof ZDatasetMapping>;
export type ColumnsMapping = z.infer<typeof ZColumnsMapping>;
export type MessagesMapping = z.infer<typeof ZMessagesMapping>;

export const DATASET_SHAPES = [
  "magpie",
  "alpaca",
  "sharegpt",
  "openai",
  "s1k",
  "openr1-math",
  "numinamath",
  "r1",
  "custom",
] as const;
export type DatasetShape = (typeof DATASET_SHAPES)[number];

/** One name per shape, shown on the upload screen and after import alike. */
export const DATASET_SHAPE_LABELS: Record<DatasetShape, string> = {
  magpie: "Magpie (instruction / response)",
  alpaca: "Alpaca (instruction / input / output)",
  sharegpt: "ShareGPT (conversations of from / value)",
  openai: "OpenAI messages (role / content)",
  s1k: "s1K (question / thinking_trajectories / attempt)",
  "openr1-math": "OpenR1-Math (problem / generations / answer)",
  numinamath: "NuminaMath (problem / solution)",
  r1: "R1 columns (problem / reasoning / solution)",
  custom: "custom mapping",
};
export const ZDatasetShape = z.enum(DATASET_SHAPES);

/** Role names seen in the wild, normalised to ours. */
export const ROLE_ALIASES: Record<string, "system" | "user" | "assistant"> = {
  system: "system",
  user: "user",
  human: "user",
  assistant: "assistant",
  gpt: "assistant",
  model: "assistant",
  bot: "assistant",
  chatgpt: "assistant",
};
