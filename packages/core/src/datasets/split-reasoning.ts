import { z } from "zod";

/**
 * Splits an assistant response that carries its reasoning inline between a pair of markers
 * (`<think>…</think>` by default). Status:
 * - "ok": a reasoning block opened (or was implied: R1 prompts open it, so completions often
 *   start inside it) and closed; reasoning and answer are separated.
 * - "missing": no reasoning markers at all; everything is the answer.
 * - "unclosed": the block opened and never closed (a truncated generation); no answer.
 * When the pair names answer markers too (Stratos' `<|begin_of_solution|>`, `<answer>`), the
 * answer is the text between them: the markers never reach the answer.
 */
export type ThinkStatus = "ok" | "missing" | "unclosed";

export interface SplitReasoning {
  reasoning: string | null;
  answer: string;
  status: ThinkStatus;
}

export const ZReasoningMarkers = z.object({
  open: z.string().min(1, "the opening marker is empty").max(100),
  close: z.string().min(1, "the closing marker is empty").max(100),
  /** the answer's own markers, removed from it (Stratos' solution block, `<answer>`) */
  answerOpen: z.string().min(1).max(100).optional(),
  answerClose: z.string().min(1).max(100).optional(),
});
export type ReasoningMarkers = z.infer<typeof ZReasoningMarkers>;

export const THINK_MARKERS: ReasoningMarkers = { open: "<think>", close: "</think>" };

/**
 * Marker pairs seen in public reasoning datasets and models' outputs, most common first.
 * Detection picks the pair whose closing marker shows up in the most sample responses.
 */
export const REASONING_MARKERS = [
  { id: "think", label: "<think> … </think> (DeepSeek-R1, Qwen3, Magpie)", markers: THINK_MARKERS },
  {
    id: "thought-solution",
    label: "<|begin_of_thought|> … + <|begin_of_solution|> … (Bespoke-Stratos, OpenThoughts)",
    markers: {
      open: "<|begin_of_thought|>",
      close: "<|end_of_thought|>",
      answerOpen: "<|begin_of_solution|>",
      answerClose: "<|end_of_solution|>",
    },
  },
  {
    id: "reasoning-answer",
    label: "<reasoning> … </reasoning> + <answer> … </answer> (GRPO format)",
    markers: { open: "<reasoning>", close: "</reasoning>", answerOpen: "<answer>", answerClose: "</answer>" },
  },
  {
    id: "thinking-output",
    label: "<thinking> … </thinking> + <output> … </output> (Reflection)",
    markers: { open: "<thinking>", close: "</thinking>", answerOpen: "<output>", answerClose: "</output>" },
  },
  {
    id: "working-out",
    label: "<start_working_out> … <end_working_out> + <SOLUTION> (Unsloth GRPO)",
    markers: {
      open: "<start_working_out>",
      close: "<end_working_out>",
      answerOpen: "<SOLUTION>",
      answerClose: "</SOLUTION>",
    },
  },
  {
    id: "reasoning-upper",
    label: "<REASONING> … </REASONING> + <SOLUTION> … </SOLUTION>",
    markers: {
      open: "<REASONING>",
      close: "</REASONING>",
      answerOpen: "<SOLUTION>",
      answerClose: "</SOLUTION>",
    },
  },
  { id: "thought", label: "<thought> … </thought>", markers: { open: "<thought>", close: "</thought>" } },
  {
    id: "seed-think",
    label: "<seed:think> … </seed:think> (Seed-OSS)",
    markers: { open: "<seed:think>", close: "</seed:think>" },
  },
  {
    id: "think-bracket",
    label: "[THINK] … [/THINK] (Magistral)",
    markers: { open: "[THINK]", close: "[/THINK]" },
  },
  {
    id: "think-triangle",
    label: "◁think▷ … ◁/think▷ (Kimi)",
    markers: { open: "◁think▷", close: "◁/think▷" },
  },
] as const satisfies readonly { id: string; label: string; markers: ReasoningMarkers }[];

const isThink = (m: ReasoningMarkers) =>
  m.open === THINK_MARKERS.open && m.close === THINK_MARKERS.close && !m.answerOpen && !m.answerClose;

/** The marker pair most sample responses use, or null when none carries any known pair. */
export function detectMarkers(texts: readonly string[]): ReasoningMarkers | null {
  let best: { markers: ReasoningMarkers; hits: number } | null = null;
  for (const { markers } of REASONING_MARKERS) {
    const hits = texts.filter((t) => t.includes(markers.close) || t.includes(markers.open)).length;
    if (hits > 0 && (best === null || hits > best.hits)) best = { markers, hits };
  }
  return best?.markers ?? null;
}

/** The markers a mapping states, or null when it uses the default `<think>` pair. */
export function nonDefaultMarkers(markers: ReasoningMarkers | null | undefined): ReasoningMarkers | null {
  return markers && !isThink(markers) ? markers : null;
}

/** Removes the answer markers: the text between them when both are there, else the markers alone. */
export function stripAnswerMarkers(text: string, markers: ReasoningMarkers): string {
  const { answerOpen, answerClose } = markers;
  let answer = text;
  if (answerOpen) {
    const at = answer.indexOf(answerOpen);
    if (at !== -1) answer = answer.slice(at + answerOpen.length);
  }
  if (answerClose) {
    const at = answer.lastIndexOf(answerClose);
    if (at !== -1) answer = answer.slice(0, at);
  }
  return answer.trim();
}

/** Removes a reasoning column's own markers, when it carries them. */
export function stripReasoningMarkers(text: string, markers: ReasoningMarkers = THINK_MARKERS): string {
  let t = text.trim();
  if (t.startsWith(markers.open)) t = t.slice(markers.open.length);
  if (t.endsWith(markers.close)) t = t.slice(0, -markers.close.length);
  return t.trim();
}

export function splitReasoning(text: string, markers: ReasoningMarkers = THINK_MARKERS): SplitReasoning {
  const { open: OPEN, close: CLOSE } = markers;
  const close = text.indexOf(CLOSE);
  const open = text.indexOf(OPEN);
  if (close === -1) {
    if (open === -1) return { reasoning: null, answer: stripAnswerMarkers(text, markers), status: "missing" };
    return { reasoning: text.slice(open + OPEN.length).trim(), answer: "", status: "unclosed" };
  }
  // a closing marker without an opener: the prompt opened the block (DeepSeek-R1's template does)
  const start = open !== -1 && open < close ? open + OPEN.length : 0;
  return {
    reasoning: text.slice(start, close).trim(),
    answer: stripAnswerMarkers(text.slice(close + CLOSE.length), markers),
    status: "ok",
  };
}

/** The assistant turn as the student learns it: `<think>\n…\n</think>\n\n` then the answer. */
export function formatAssistantContent(reasoning: string | null, answer: string): string {
  if (reasoning === null) return answer;
  return `${THINK_MARKERS.open}\n${reasoning}\n${THINK_MARKERS.close}\n\n${answer}`;
}
