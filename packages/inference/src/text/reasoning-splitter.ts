/**
 * Splits streamed output into reasoning and answer as vLLM's DeepSeek-R1 reasoning parser does:
 * the text of a `<think> … </think>` block goes to `reasoning_content`, the rest to `content`.
 * A generation whose prompt already opened the block (templates that end with `<think>\n`)
 * starts inside it. Tags split across pieces are held back until they are whole.
 */
const OPEN = "<think>";
const CLOSE = "</think>";

export interface ReasoningDelta {
  reasoning: string;
  content: string;
}

export interface ReasoningSplitter {
  push(text: string): ReasoningDelta;
  flush(): ReasoningDelta;
}

function partialSuffix(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--)
    if (text.endsWith(tag.slice(0, n))) return n;
  return 0;
}

export function createReasoningSplitter(options: { startsInside?: boolean } = {}): ReasoningSplitter {
  // "start": nothing but whitespace seen yet; "think": inside the block; "answer": after it
  let state: "start" | "think" | "answer" = options.startsInside ? "think" : "start";
  let held = "";
  const step = (): ReasoningDelta => {
    const out: ReasoningDelta = { reasoning: "", content: "" };
    for (;;) {
      if (state === "start") {
        const trimmed = held.trimStart();
        if (trimmed.startsWith(OPEN)) {
          held = trimmed.slice(OPEN.length);
          state = "think";
          continue;
        }
        if (trimmed === "" || OPEN.startsWith(trimmed)) return out;
        state = "answer";
        continue;
      }
      if (state === "think") {
        const at = held.indexOf(CLOSE);
        if (at !== -1) {
          out.reasoning += held.slice(0, at);
          held = held.slice(at + CLOSE.length);
          state = "answer";
          continue;
        }
        const keep = partialSuffix(held, CLOSE);
        out.reasoning += held.slice(0, held.length - keep);
        held = held.slice(held.length - keep);
        return out;
      }
      out.content += held;
      held = "";
      return out;
    }
  };
  return {
    push(text) {
      held += text;
      return step();
    },
    flush() {
      const out = step();
      if (state === "think") out.reasoning += held;
      else out.content += held;
      held = "";
      return out;
    },
  };
}
