import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { CanonicalExample } from "../datasets/canonical-example.ts";
import { renderChat } from "./render-chat.ts";
import { loadCorpus, toSpec } from "./test-corpus.ts";
import {
  assistantRegion,
  reasoningTemplateKwargs,
  toEngineExample,
  toPromptMessages,
} from "./to-engine-example.ts";

// The prompt/completion split on every corpus template that knows reasoning markup. The
// rendering itself is checked against Python Jinja2 by template-parity.test.ts; here: the
// prompt is exactly what inference renders, and the assistant's part holds one <think> block
// around the reasoning, never a repeated or misplaced tag.
const REASONING = "17 * 3: 17 * 3 = 51.";
const ANSWER = "The answer is 51.";

const examples: Record<string, CanonicalExample> = {
  single: {
    messages: [{ role: "user", content: "What is 17 * 3?" }],
    reasoning: REASONING,
    answer: ANSWER,
    think: "ok",
  },
  system: {
    system: "You are terse.",
    messages: [{ role: "user", content: "What is 17 * 3?" }],
    reasoning: REASONING,
    answer: ANSWER,
    think: "ok",
  },
  multiTurn: {
    messages: [
      { role: "user", content: "Hi!" },
      { role: "assistant", content: "Hello. How can I help?" },
      { role: "user", content: "What is 17 * 3?" },
    ],
    reasoning: REASONING,
    answer: ANSWER,
    think: "ok",
  },
  noReasoning: {
    messages: [{ role: "user", content: "What is 17 * 3?" }],
    reasoning: null,
    answer: ANSWER,
    think: "missing",
  },
};

const supportsReasoning = (template: string) =>
  /<think>|reasoning_content|enable_thinking|\bthinking\b/.test(template);

describe("prompt/completion split on reasoning templates", () => {
  // every template: those that know reasoning markup, and the rest (reasoning then travels inline)
  const all = loadCorpus();
  const corpus = all.filter((t) => supportsReasoning(t.template));

  beforeAll(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date(2026, 0, 15, 10, 30, 0));
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it("covers the reasoning templates of the corpus", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(20);
  });

  it("never repeats or misplaces a reasoning tag, and prompts exactly as inference does", () => {
    let split = 0;
    const refusedByTemplate: string[] = [];
    const cannotTrainReasoning: string[] = [];
    const inconsistent: string[] = [];
    const splitTemplates = new Set<string>();
    const failures: string[] = [];
    for (const t of all) {
      const spec = toSpec(t);
      for (const [name, example] of Object.entries(examples)) {
        const key = `${t.id} × ${name}`;
        const hasReasoning = example.reasoning !== null;
        const templateKwargs = reasoningTemplateKwargs(hasReasoning);
        let inferencePrompt: string;
        try {
          inferencePrompt = renderChat(spec, toPromptMessages(example), {
            addGenerationPrompt: true,
            templateKwargs,
          });
        } catch {
          refusedByTemplate.push(key); // the template refuses this conversation outright (e.g. roles)
          continue;
        }
        let parts: { prompt: string; completion: string };
        try {
          parts = toEngineExample(example, spec);
        } catch (e) {
          const message = (e as Error).message;
          if (message.includes("closes the reasoning block")) cannotTrainReasoning.push(key);
          else if (
            message.includes("does not render the assistant turn") ||
            !message.startsWith('template "')
          )
            refusedByTemplate.push(key); // the template raises on a finished conversation, or drops the turn
          else if (!supportsReasoning(t.template) && /does not start with|is not a prefix/.test(message))
            // a plain template whose generation prompt is not how it renders a finished turn
            // (e.g. leftover indentation): refused with that reason, nothing to do with reasoning
            inconsistent.push(key);
          else failures.push(`${key}: ${message}`);
          continue;
        }
        split++;
        splitTemplates.add(t.id);
        if (parts.prompt !== inferencePrompt)
          failures.push(`${key}: prompt differs from the inference prompt`);
        // up to the answer: tags after it are the template's own end of turn
        const region = assistantRegion(parts, example);
        const before = region.slice(0, region.lastIndexOf(ANSWER));
        const opens = before.split("<think>").length - 1;
        const closes = before.split("</think>").length - 1;
        const open = before.indexOf("<think>");
        const close = before.indexOf("</think>");
        if (!region.includes(ANSWER)) failures.push(`${key}: the answer is missing`);
        if (hasReasoning) {
          const at = before.indexOf(REASONING);
          if (opens !== 1 || closes !== 1 || !(open < at && at < close))
            failures.push(`${key}: reasoning not in one <think> block: ${JSON.stringify(region)}`);
          if (before.split(REASONING).length !== 2) failures.push(`${key}: reasoning not exactly once`);
        } else {
          // no tag, one empty block, or the lone `</think>` the generation prompt wrote (V3.1)
          const isClean =
            (opens === 0 && closes === 0) ||
            (opens === 1 && closes === 1 && open < close) ||
            (opens === 0 && closes === 1 && !parts.completion.includes("</think>"));
          if (!isClean) failures.push(`${key}: stray reasoning tags: ${JSON.stringify(region)}`);
        }
      }
    }
    console.log(
      `reasoning split: ${all.length} templates (${corpus.length} with reasoning markup) × ${Object.keys(examples).length} rows: ${split} split and checked, ` +
        `${refusedByTemplate.length} refused by the template itself, ${inconsistent.length} on ${new Set(inconsistent.map((k) => k.split(" × ")[0])).size} plain templates whose generation prompt is not a prefix of the finished turn, ${cannotTrainReasoning.length} where the generation prompt closes the reasoning block ` +
        `(${[...new Set(cannotTrainReasoning.map((k) => k.split(" × ")[0]))].join(", ")})`,
    );
    expect(failures, failures.slice(0, 20).join("\n")).toEqual([]);
    expect(split).toBeGreaterThan(all.length * 2);
    // every template with reasoning markup that renders these conversations at all splits them
    const refused = new Set(refusedByTemplate);
    const usable = corpus.filter((t) =>
      Object.keys(examples).some((name) => !refused.has(`${t.id} × ${name}`)),
    );
    expect(usable.filter((t) => !splitTemplates.has(t.id)).map((t) => t.id)).toEqual([]);
    expect(usable.length).toBeGreaterThanOrEqual(18);
  }, 300_000);
});

describe("the split on the reasoning formats the issue names", () => {
  const byModel = (model: string) => {
    const t = loadCorpus().find((c) => c.model === model);
    if (!t) throw new Error(`${model} is not in the corpus`);
    return toSpec(t);
  };
  const row = examples.single as CanonicalExample;

  it("splits empty texts too (token statistics measure a template's overhead with them)", () => {
    const empty: CanonicalExample = {
      messages: [{ role: "user", content: "" }],
      reasoning: "",
      answer: "",
      think: "ok",
    };
    expect(toEngineExample(empty, byModel("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B")).completion).toBe(
      "\n</think>\n\n<｜end▁of▁sentence｜>",
    );
    expect(toEngineExample(empty, byModel("Qwen/Qwen2.5-Instruct (axolotl)")).completion).toBe(
      "<think>\n\n</think>\n\n<|im_end|>\n",
    );
  });

  it("R1-Distill: the prompt opens `<think>\\n`, the completion starts inside the block", () => {
    const parts = toEngineExample(row, byModel("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"));
    expect(parts.prompt.endsWith("<｜Assistant｜><think>\n")).toBe(true);
    expect(parts.completion).toBe(`${REASONING}\n</think>\n\n${ANSWER}<｜end▁of▁sentence｜>`);
    const plain = toEngineExample(
      examples.noReasoning as CanonicalExample,
      byModel("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"),
    );
    expect(plain.completion).toBe(`\n</think>\n\n${ANSWER}<｜end▁of▁sentence｜>`);
  });

  it("DeepSeek-V3.1: reasoning rows use thinking mode (`<think>`), plain rows the `</think>` prompt", () => {
    const spec = byModel("deepseek-ai/DeepSeek-V3.1");
    const parts = toEngineExample(row, spec);
    expect(parts.prompt.endsWith("<｜Assistant｜><think>")).toBe(true);
    expect(parts.completion).toBe(`\n${REASONING}\n</think>\n\n${ANSWER}<｜end▁of▁sentence｜>`);
    const plain = toEngineExample(examples.noReasoning as CanonicalExample, spec);
    expect(plain.prompt.endsWith("<｜Assistant｜></think>")).toBe(true);
    expect(plain.completion).toBe(`${ANSWER}<｜end▁of▁sentence｜>`);
  });

  it("Qwen3 (enable_thinking): the prompt that already opens `<think>\\n\\n` is continued, not repeated", () => {
    const spec = byModel("Qwen/Qwen3 (axolotl variant)");
    const parts = toEngineExample(row, spec);
    expect(parts.prompt.endsWith("<|im_start|>assistant\n<think>\n\n")).toBe(true);
    expect(parts.completion).toBe(`${REASONING}\n</think>\n\n${ANSWER}<|im_end|>\n`);
    const plain = toEngineExample(examples.noReasoning as CanonicalExample, spec);
    expect(plain.prompt.endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n")).toBe(true);
    expect(plain.completion).toBe(`${ANSWER}<|im_end|>\n`);
  });
});
