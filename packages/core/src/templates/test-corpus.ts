// Test-only: the real-template corpus (fixtures/chat-templates/corpus.json) and the conversations
// every template is rendered with. Not exported from the package (it reads a file).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUILTIN_TEMPLATES, type ChatTemplateSpec } from "./builtin-templates.ts";
import type { RenderMessage, RenderOptions } from "./render-chat.ts";

export interface CorpusTemplate {
  id: string;
  model: string;
  family: string;
  source: { repo: string; path: string; commit: string | null };
  tokens: {
    bos_token?: string;
    eos_token?: string;
    unk_token?: string;
    pad_token?: string;
    additional_special_tokens?: string[];
  };
  template: string;
}

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/chat-templates/corpus.json");

export function loadCorpus(): CorpusTemplate[] {
  return (JSON.parse(readFileSync(FIXTURE, "utf8")) as { templates: CorpusTemplate[] }).templates;
}

/** The built-in templates (copied from their models' tokenizer_config.json) as corpus entries. */
export function builtinCorpus(): CorpusTemplate[] {
  return Object.values(BUILTIN_TEMPLATES).map((t) => ({
    id: `builtin-${t.id}`,
    model: t.source,
    family: t.id,
    source: { repo: t.source, path: "tokenizer_config.json", commit: null },
    tokens: { ...(t.bosToken === null ? {} : { bos_token: t.bosToken }), eos_token: t.eosToken },
    template: t.template,
  }));
}

export function toSpec(t: CorpusTemplate): ChatTemplateSpec {
  return {
    id: t.id,
    label: t.model,
    source: `${t.source.repo}/${t.source.path}`,
    template: t.template,
    bosToken: t.tokens.bos_token ?? null,
    eosToken: t.tokens.eos_token ?? "",
    unkToken: t.tokens.unk_token ?? null,
    padToken: t.tokens.pad_token ?? null,
    additionalSpecialTokens: t.tokens.additional_special_tokens ?? [],
    specialTokens: [],
  };
}

export interface Conversation {
  id: string;
  messages: RenderMessage[];
  options: RenderOptions;
}

const sys = (content: string): RenderMessage => ({ role: "system", content });
const user = (content: string): RenderMessage => ({ role: "user", content });
const assistant = (content: string, reasoning_content?: string): RenderMessage =>
  reasoning_content === undefined
    ? { role: "assistant", content }
    : { role: "assistant", content, reasoning_content };

const Q = "What is 17 * 3?";
const THINK_INLINE = "<think>\n17 * 3 = 51.\n</think>\n\nThe answer is 51.";

/** Conversations that exercise what distillation renders: system variants, turns, reasoning, unicode. */
export const CONVERSATIONS: Conversation[] = [
  { id: "user-only+gen", messages: [user(Q)], options: { addGenerationPrompt: true } },
  { id: "system+gen", messages: [sys("You are terse."), user(Q)], options: { addGenerationPrompt: true } },
  { id: "empty-system+gen", messages: [sys(""), user(Q)], options: { addGenerationPrompt: true } },
  { id: "system+answer", messages: [sys("You are terse."), user(Q), assistant("51")], options: {} },
  { id: "reasoning-inline", messages: [user(Q), assistant(THINK_INLINE)], options: {} },
  {
    id: "reasoning-content",
    messages: [user(Q), assistant("The answer is 51.", "17 * 3 = 51.")],
    options: {},
  },
  {
    id: "multi-turn+gen",
    messages: [user("Hi!"), assistant("Hello. How can I help?"), user(Q)],
    options: { addGenerationPrompt: true },
  },
  {
    id: "multi-turn-reasoning",
    messages: [
      sys("Think first."),
      user("Hi!"),
      assistant(THINK_INLINE),
      user("And 18 * 3?"),
      assistant("54"),
    ],
    options: {},
  },
  {
    id: "unicode",
    messages: [
      user('  Ünïcödé — 你好, мир, 🤖 "quotes" and \\backslash\\\n  '),
      assistant("<think>\nß → ss; 𝔘 is astral.\n</think>\n\nDone ✅"),
    ],
    options: {},
  },
  {
    id: "whitespace",
    messages: [
      sys(" \t Be terse.\r\n"),
      user("\u00a0\u2028 17 * 3?\u3000\u001f\ufeff"),
      assistant("\u200b51\u0085 \n"),
      user("\n\nAnd 18 * 3?\n\n"),
    ],
    options: { addGenerationPrompt: true },
  },
  {
    id: "reasoning-content-history",
    messages: [
      user("Hi!"),
      assistant("Hello.", "The user greets me."),
      user(Q),
      assistant("The answer is 51.", "17 * 3 = 51."),
    ],
    options: {},
  },
  {
    id: "thinking-off+gen",
    messages: [user(Q)],
    options: { addGenerationPrompt: true, templateKwargs: { enable_thinking: false } },
  },
  {
    id: "thinking-on+gen",
    messages: [sys("You are terse."), user(Q)],
    options: { addGenerationPrompt: true, templateKwargs: { enable_thinking: true, thinking: true } },
  },
];
