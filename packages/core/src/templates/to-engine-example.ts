import type { CanonicalExample } from "../datasets/canonical-example.ts";
import { formatAssistantContent } from "../datasets/split-reasoning.ts";
import type { ChatTemplateSpec } from "./builtin-templates.ts";
import { type RenderMessage, renderChat } from "./render-chat.ts";

export interface EngineExampleParts {
  /** rendered up to and including the generation prompt */
  prompt: string;
  /** the rest: `<think>\n…\n</think>\n\n` + answer + the template's end-of-turn tokens */
  completion: string;
}

/** The conversation before the final assistant turn, in render order. */
export function toPromptMessages(example: CanonicalExample, systemPrompt?: string): RenderMessage[] {
  const system = example.system ?? systemPrompt;
  const out: RenderMessage[] = system ? [{ role: "system", content: system }] : [];
  for (const m of example.messages) out.push({ role: m.role, content: m.content });
  return out;
}

// A marker no dataset contains, standing in for the assistant turn when a template rewrites it.
const SENTINEL = "\u0000DISTILLERY_ASSISTANT_TURN\u0000";

/**
 * Splits an example into the engine's `{prompt, completion}`: prompt = the render with
 * add_generation_prompt; completion = the rest of the full render. Templates that rewrite the
 * assistant turn (DeepSeek-R1's drops everything up to `</think>`, which would erase the very
 * reasoning being distilled) are rendered with a sentinel in the assistant turn; the
 * reasoning and answer are put back in its place, and whatever the generation prompt already
 * opened (R1's `<think>\n`) is not repeated in the completion.
 */
export function toEngineExample(
  example: CanonicalExample,
  spec: ChatTemplateSpec,
  options: { systemPrompt?: string } = {},
): EngineExampleParts {
  const history = toPromptMessages(example, options.systemPrompt);
  const assistant = formatAssistantContent(example.reasoning, example.answer);
  const prompt = renderChat(spec, history, { addGenerationPrompt: true });
  const full = renderChat(spec, [...history, { role: "assistant", content: assistant }]);
  const keepsReasoning = example.reasoning === null || full.includes(example.reasoning);
  if (keepsReasoning && full.startsWith(prompt)) return { prompt, completion: full.slice(prompt.length) };

  const marked = renderChat(spec, [...history, { role: "assistant", content: SENTINEL }]);
  const at = marked.indexOf(SENTINEL);
  if (at === -1) throw new Error(`template "${spec.id}" does not render the assistant turn's content`);
  const head = marked.slice(0, at);
  const tail = marked.slice(at + SENTINEL.length);
  if (!prompt.startsWith(head)) {
    throw new Error(
      `template "${spec.id}": the generation prompt is not a prefix of the rendered conversation`,
    );
  }
  const opened = prompt.slice(head.length);
  if (!assistant.startsWith(opened)) {
    // e.g. R1's prompt opens `<think>\n` but this row has no reasoning: close the block empty
    if (opened.startsWith("<think>")) return { prompt, completion: `\n</think>\n\n${example.answer}${tail}` };
    throw new Error(
      `template "${spec.id}": the generation prompt ends with ${JSON.stringify(opened)}, which the answer does not start with`,
    );
  }
  return { prompt, completion: assistant.slice(opened.length) + tail };
}
