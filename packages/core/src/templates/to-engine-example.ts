import type { CanonicalExample } from "../datasets/canonical-example.ts";
import { formatAssistantContent } from "../datasets/split-reasoning.ts";
import type { ChatTemplateSpec } from "./builtin-templates.ts";
import { type RenderMessage, renderChat } from "./render-chat.ts";

export interface EngineExampleParts {
  /** rendered up to and including the generation prompt, exactly as inference renders it */
  prompt: string;
  /** the rest: the reasoning block (if any) + answer + the template's end-of-turn tokens */
  completion: string;
}

/**
 * The template switches for a row with or without reasoning: Qwen3 reads `enable_thinking`,
 * DeepSeek-V3.1 `thinking` (its generation prompt then opens `<think>` instead of closing it).
 * Templates that read neither ignore them. Inference on a distilled model passes the same.
 */
export function reasoningTemplateKwargs(hasReasoning: boolean): Record<string, boolean> {
  return { enable_thinking: hasReasoning, thinking: hasReasoning };
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
const OPEN = "<think>";
const CLOSE = "</think>";

function commonPrefixLength(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

/**
 * Splits an example into the engine's `{prompt, completion}`: prompt = the render with
 * add_generation_prompt (and the reasoning switch on exactly when the row has reasoning), so
 * training sees the prompt inference will; completion = what the model must write after it.
 *
 * When the template renders our assistant turn as is, completion = the rest of the full
 * render. Otherwise (R1 drops everything up to `</think>` from past turns; V3.1 writes
 * `</think>` before them) the turn is rendered with a sentinel to find the template's own
 * frame around it, and whatever the generation prompt already wrote of the reasoning markup
 * (R1's `<think>\n`, V3.1's `<think>`, a Qwen3 variant's `<think>\n\n`) is not written again.
 * The result has one `<think>` … `</think>` around the reasoning, never two, never a stray one;
 * a template whose generation prompt closes the reasoning block cannot train reasoning and is
 * refused with that reason.
 */
export function toEngineExample(
  example: CanonicalExample,
  spec: ChatTemplateSpec,
  options: { systemPrompt?: string } = {},
): EngineExampleParts {
  const hasReasoning = example.reasoning !== null;
  const templateKwargs = reasoningTemplateKwargs(hasReasoning);
  const history = toPromptMessages(example, options.systemPrompt);
  const body = formatAssistantContent(example.reasoning, example.answer);
  const prompt = renderChat(spec, history, { addGenerationPrompt: true, templateKwargs });

  const full = renderChat(spec, [...history, { role: "assistant", content: body }], { templateKwargs });
  if (full.startsWith(prompt)) {
    const parts = { prompt, completion: full.slice(prompt.length) };
    if (isWellFormed(parts, example)) return parts;
  }

  const marked = renderChat(spec, [...history, { role: "assistant", content: SENTINEL }], { templateKwargs });
  const at = marked.indexOf(SENTINEL);
  if (at === -1) throw new Error(`template "${spec.id}" does not render the assistant turn's content`);
  const head = marked.slice(0, at);
  const tail = marked.slice(at + SENTINEL.length);

  let completion: string;
  const written = writtenInsideThink(prompt, example);
  if (written !== null) {
    // the generation prompt opened the reasoning block (R1's `<think>\n`, V3.1's `<think>`, a
    // Qwen3 variant's `<think>\n\n`): continue inside it, closing it (empty when no reasoning)
    const inside = formatAssistantContent(example.reasoning ?? "", example.answer).slice(OPEN.length);
    completion = (inside.startsWith(written) ? inside.slice(written.length) : inside.trimStart()) + tail;
  } else {
    // prompt = frame + opened (what the generation prompt adds); head = frame + what a finished
    // turn writes before its content (Qwen3's empty think block, V3.1's `</think>`). The frame
    // never ends inside a tag.
    let frame = commonPrefixLength(prompt, head);
    const lt = prompt.lastIndexOf("<", frame - 1);
    if (lt !== -1 && prompt.indexOf(">", lt) >= frame) frame = lt;
    const opened = prompt.slice(frame);
    if (opened === "") completion = (hasReasoning ? body : head.slice(frame) + body) + tail;
    else if (body.startsWith(opened)) completion = body.slice(opened.length) + tail;
    else if (opened.includes(CLOSE)) {
      if (hasReasoning) {
        throw new Error(
          `template "${spec.id}": the generation prompt closes the reasoning block (${JSON.stringify(opened)}) even with thinking enabled, so reasoning cannot be trained`,
        );
      }
      completion = example.answer + tail;
    } else {
      throw new Error(
        `template "${spec.id}": the generation prompt ends with ${JSON.stringify(opened)}, which the answer does not start with`,
      );
    }
  }
  const parts = { prompt, completion };
  if (!isWellFormed(parts, example)) {
    throw new Error(`template "${spec.id}": cannot place the reasoning in one <think> block`);
  }
  return parts;
}

/** After an unclosed `<think>` that ends the prompt's assistant part: what follows it; else null. */
function writtenInsideThink(prompt: string, example: CanonicalExample): string | null {
  const own = assistantRegion({ prompt, completion: "" }, example);
  const open = own.lastIndexOf(OPEN);
  if (open === -1 || own.lastIndexOf(CLOSE) > open) return null;
  return own.slice(open + OPEN.length);
}

/**
 * Up to the answer, the assistant's part holds one `<think>` … `</think>` around the reasoning
 * (a row without reasoning: no tag, an empty block, or the `</think>` a generation prompt wrote).
 * Tags after the answer are the template's own end of turn.
 */
function isWellFormed(parts: EngineExampleParts, example: CanonicalExample): boolean {
  const region = assistantRegion(parts, example);
  // an empty answer (token statistics measure a template's overhead with one) ends at the block
  const firstClose = region.indexOf(CLOSE);
  const end = example.answer
    ? region.lastIndexOf(example.answer)
    : firstClose === -1
      ? region.length
      : firstClose + CLOSE.length;
  if (end === -1) return false;
  const before = region.slice(0, end);
  const opens = count(before, OPEN);
  const closes = count(before, CLOSE);
  const open = before.indexOf(OPEN);
  const close = before.indexOf(CLOSE);
  if (example.reasoning === null) {
    if (opens === 0) return closes === 0 || (closes === 1 && !parts.completion.includes(CLOSE));
    return opens === 1 && closes === 1 && open < close;
  }
  if (opens !== 1 || closes !== 1 || close < open) return false;
  if (example.reasoning === "") return true;
  const reasoning = before.indexOf(example.reasoning);
  return open < reasoning && reasoning < close && count(before, example.reasoning) === 1;
}

/** The text after the last user message: the generation prompt's own part plus the completion. */
export function assistantRegion(parts: EngineExampleParts, example: CanonicalExample): string {
  const lastUser = example.messages.findLast((m) => m.role === "user")?.content ?? "";
  // templates may trim the message (Llama-3, Gemma): look for it as written, then trimmed
  for (const text of [lastUser, lastUser.trim()]) {
    const at = text ? parts.prompt.lastIndexOf(text) : -1;
    if (at !== -1) return parts.prompt.slice(at + text.length) + parts.completion;
  }
  return parts.prompt + parts.completion;
}
