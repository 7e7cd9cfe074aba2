import { Template } from "@huggingface/jinja";
import type { ChatTemplateSpec } from "./builtin-templates.ts";

export interface RenderMessage {
  role: "system" | "user" | "assistant";
  content: string;
  /** the reasoning apart from the answer, as chat APIs return it (Qwen3 and others render it) */
  reasoning_content?: string;
}

export interface RenderOptions {
  addGenerationPrompt?: boolean;
  /** extra template variables, as apply_chat_template's **kwargs (e.g. `enable_thinking`) */
  templateKwargs?: Readonly<Record<string, unknown>>;
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
 * The special tokens transformers passes to a template (`tokenizer.special_tokens_map`): only
 * those the tokenizer has; `additional_special_tokens` only when there are some.
 */
export function specialTokenVariables(spec: ChatTemplateSpec): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  if (spec.bosToken != null) vars.bos_token = spec.bosToken;
  if (spec.eosToken != null) vars.eos_token = spec.eosToken;
  if (spec.unkToken != null) vars.unk_token = spec.unkToken;
  if (spec.padToken != null) vars.pad_token = spec.padToken;
  if (spec.additionalSpecialTokens?.length)
    vars.additional_special_tokens = [...spec.additionalSpecialTokens];
  return vars;
}

/**
 * The variables transformers' `apply_chat_template(messages, tokenize=False, add_generation_prompt=…,
 * **kwargs)` renders with: messages, tools and documents (None), add_generation_prompt, the
 * special tokens, then the kwargs. `raise_exception` and `strftime_now` are globals of the engine.
 */
export function chatTemplateVariables(
  spec: ChatTemplateSpec,
  messages: readonly RenderMessage[],
  options: RenderOptions = {},
): Record<string, unknown> {
  return {
    messages,
    tools: null,
    documents: null,
    add_generation_prompt: options.addGenerationPrompt ?? false,
    ...specialTokenVariables(spec),
    ...options.templateKwargs,
  };
}

/**
 * Renders like transformers' `tokenizer.apply_chat_template(messages, tokenize=False, …)`,
 * byte for byte: @huggingface/jinja (trim_blocks and lstrip_blocks are its defaults), patched
 * to Python's semantics where real templates need them (patches/README.md), checked against
 * Python Jinja2 on a corpus of real templates (template-parity.test.ts).
 */
export function renderChat(
  spec: ChatTemplateSpec,
  messages: readonly RenderMessage[],
  options: RenderOptions = {},
): string {
  return renderTemplate(spec.template, chatTemplateVariables(spec, messages, options));
}

/** A template source with the given variables (the parity test renders raw corpus entries). */
export function renderTemplate(source: string, variables: Record<string, unknown>): string {
  return compile(source).render(variables);
}
