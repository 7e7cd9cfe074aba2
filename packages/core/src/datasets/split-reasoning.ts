/**
 * Splits an assistant response that may carry its reasoning inline as `<think>…</think>`.
 * Status:
 * - "ok": a think block opened (or was implied: R1 prompts open it, so completions often
 *   start inside it) and closed; reasoning and answer are separated.
 * - "missing": no think tags at all; everything is the answer.
 * - "unclosed": `<think>` opened and never closed (a truncated generation); no answer.
 */
export type ThinkStatus = "ok" | "missing" | "unclosed";

export interface SplitReasoning {
  reasoning: string | null;
  answer: string;
  status: ThinkStatus;
}

const OPEN = "<think>";
const CLOSE = "</think>";

export function splitReasoning(text: string): SplitReasoning {
  const close = text.indexOf(CLOSE);
  const open = text.indexOf(OPEN);
  if (close === -1) {
    if (open === -1) return { reasoning: null, answer: text.trim(), status: "missing" };
    return { reasoning: text.slice(open + OPEN.length).trim(), answer: "", status: "unclosed" };
  }
  // `</think>` without an opener: the prompt opened the block (DeepSeek-R1's template does).
  const start = open !== -1 && open < close ? open + OPEN.length : 0;
  return {
    reasoning: text.slice(start, close).trim(),
    answer: text.slice(close + CLOSE.length).trim(),
    status: "ok",
  };
}

/** The assistant turn as the student learns it: `<think>\n…\n</think>\n\n` then the answer. */
export function formatAssistantContent(reasoning: string | null, answer: string): string {
  if (reasoning === null) return answer;
  return `${OPEN}\n${reasoning}\n${CLOSE}\n\n${answer}`;
}
