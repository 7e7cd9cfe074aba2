const OPEN = "<think>";
const CLOSE = "</think>";

export interface ThinkParts {
  /** exactly one `<think>` opening the response and one `</think>` after it, then a non-empty answer */
  isCompliant: boolean;
  /** text inside the first think block (or after an unclosed `<think>`), trimmed; null without one */
  reasoning: string | null;
  /** text after the last `</think>` (the whole response when there is none), trimmed */
  answer: string;
}

function count(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}

/**
 * Splits a generated response into reasoning and answer and says whether it follows the
 * distilled format: nothing but whitespace before `<think>`, exactly one well-formed block,
 * and an answer after it. Generations are untrusted text; this only reads them.
 */
export function checkThinkFormat(response: string): ThinkParts {
  const open = response.indexOf(OPEN);
  const close = response.lastIndexOf(CLOSE);
  const reasoning =
    open === -1 ? null : response.slice(open + OPEN.length, close > open ? close : undefined).trim();
  const answer = (close === -1 ? (open === -1 ? response : "") : response.slice(close + CLOSE.length)).trim();
  const isCompliant =
    count(response, OPEN) === 1 &&
    count(response, CLOSE) === 1 &&
    response.slice(0, open).trim() === "" &&
    close > open &&
    answer !== "";
  return { isCompliant, reasoning, answer };
}
