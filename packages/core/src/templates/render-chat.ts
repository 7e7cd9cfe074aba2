import { Template } from "@huggingface/jinja";
import type { ChatTemplateSpec } from "./builtin-templates.ts";

export interface RenderMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface RenderOptions {
  addGenerationPrompt?: boolean;
}

// Parsing a template costs far more than rendering it; specs are few, rows are many.
const compiled = new Map<string, Template>();
const MAX_COMPILED = 64;

function compile(source: string): Template {
  let t = compiled.get(source);
  if (!t) {
    t = new Template(source);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(source, t);
  }
  return t;
}

/**
 * Renders like transformers' `tokenizer.apply_chat_template(messages, tokenize=False,
 * add_generation_prompt=…)`: the same variables (messages, add_generation_prompt, bos_token,
 * eos_token) and the same Jinja whitespace settings (trim_blocks, lstrip_blocks), which
 * @huggingface/jinja applies by default.
 */
export function renderChat(
  spec: ChatTemplateSpec,
  messages: readonly RenderMessage[],
  options: RenderOptions = {},
): string {
  const vars: Record<string, unknown> = {
    messages,
    add_generation_prompt: options.addGenerationPrompt ?? false,
    eos_token: spec.eosToken,
  };
  // transformers passes special tokens the tokenizer has; a missing one stays undefined
  if (spec.bosToken !== null) vars.bos_token = spec.bosToken;
  return compile(spec.template).render(vars);
}
