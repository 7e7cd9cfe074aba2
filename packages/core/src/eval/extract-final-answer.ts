const CLOSE = "</think>";
const BOXED = "\\boxed{";

/** The content of the last `\boxed{…}` in `text` (braces balanced), or null. */
export function extractBoxed(text: string): string | null {
  let at = text.lastIndexOf(BOXED);
  while (at !== -1) {
    const start = at + BOXED.length;
    let depth = 0;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (c === "{") depth++;
      else if (c === "}") {
        if (depth === 0) return text.slice(start, i).trim();
        depth--;
      }
    }
    // unbalanced (a truncated generation): try an earlier, complete one. lastIndexOf clamps a
    // negative start to 0, so an unbalanced box at 0 would be found again for ever: stop there
    at = at === 0 ? -1 : text.lastIndexOf(BOXED, at - 1);
  }
  return null;
}

/** The last number in `text` (sign, thousands separators and decimals kept), or null. */
export function extractLastNumber(text: string): string | null {
  const numbers = text.match(/-?\d[\d,]*(?:\.\d+)?/g);
  if (!numbers) return null;
  return (numbers[numbers.length - 1] as string).replace(/,$/, "");
}

/**
 * The final answer of a response: only the text after the last `</think>` counts when there is
 * one (numbers inside the reasoning are work, not answers); in it the last `\boxed{…}`, else
 * the last number. A response whose think block never closes has no final answer: its last
 * number is an unfinished step.
 */
export function extractFinalAnswer(response: string): string | null {
  const close = response.lastIndexOf(CLOSE);
  let tail = response;
  if (close !== -1) tail = response.slice(close + CLOSE.length);
  else if (response.includes("<think>")) return null;
  return extractBoxed(tail) ?? extractLastNumber(tail);
}
