import { describe, expect, it } from "vitest";
import type { CanonicalExample } from "../datasets/canonical-example.ts";
import { BUILTIN_TEMPLATES } from "./builtin-templates.ts";
import { renderChat } from "./render-chat.ts";
import { getModelTemplate, resolveTemplate } from "./resolve-template.ts";
import { toEngineExample } from "./to-engine-example.ts";

// Expected strings are derived by hand from each template's Jinja (see builtin-templates.ts).
const user = { role: "user" as const, content: "What is 2+2?" };
const system = { role: "system" as const, content: "Be brief." };
const assistantContent = "<think>\n2 plus 2 is 4.\n</think>\n\nThe answer is 4.";
const assistant = { role: "assistant" as const, content: assistantContent };
const example: CanonicalExample = {
  messages: [{ role: "user", content: "What is 2+2?" }],
  reasoning: "2 plus 2 is 4.",
  answer: "The answer is 4.",
  think: "ok",
};

describe("Phi-3 template", () => {
  const spec = BUILTIN_TEMPLATES.phi3;
  it("renders the generation prompt", () => {
    expect(renderChat(spec, [user], { addGenerationPrompt: true })).toBe(
      "<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n",
    );
  });
  it("renders a full conversation with eos and a system turn", () => {
    expect(renderChat(spec, [system, user, assistant])).toBe(
      `<|system|>\nBe brief.<|end|>\n<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n${assistantContent}<|end|>\n<|endoftext|>`,
    );
  });
  it("splits into prompt and completion (the seed's `<|user|>\\n{instruction}<|end|>\\n<|assistant|>\\n{response}<|end|>\\n`)", () => {
    expect(toEngineExample(example, spec)).toEqual({
      prompt: "<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n",
      completion: `${assistantContent}<|end|>\n<|endoftext|>`,
    });
  });
});

describe("ChatML (Qwen2.5) template", () => {
  const spec = BUILTIN_TEMPLATES.chatml;
  const defaultSystem =
    "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n";
  it("adds Qwen's default system prompt and the generation prompt", () => {
    expect(renderChat(spec, [user], { addGenerationPrompt: true })).toBe(
      `${defaultSystem}<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n`,
    );
  });
  it("uses the given system prompt once", () => {
    expect(renderChat(spec, [system, user, assistant])).toBe(
      `<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n${assistantContent}<|im_end|>\n`,
    );
  });
  it("renders multi-turn history", () => {
    const out = renderChat(
      spec,
      [user, { role: "assistant", content: "4" }, { role: "user", content: "And 3+3?" }],
      {
        addGenerationPrompt: true,
      },
    );
    expect(out).toBe(
      `${defaultSystem}<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n`,
    );
  });
  it("splits into prompt and completion", () => {
    expect(toEngineExample(example, spec).completion).toBe(`${assistantContent}<|im_end|>\n`);
  });
});

describe("Llama-3 template", () => {
  const spec = BUILTIN_TEMPLATES.llama3;
  it("puts bos first and trims contents", () => {
    expect(
      renderChat(spec, [system, { role: "user", content: "  What is 2+2?\n" }], {
        addGenerationPrompt: true,
      }),
    ).toBe(
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    );
  });
  it("ends the assistant turn with eot and no eos", () => {
    expect(toEngineExample(example, spec)).toEqual({
      prompt:
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
      completion: `${assistantContent}<|eot_id|>`,
    });
  });
});

describe("DeepSeek-R1-Distill template", () => {
  const spec = BUILTIN_TEMPLATES["deepseek-r1"];
  it("opens <think> in the generation prompt and puts the system prompt after bos", () => {
    expect(renderChat(spec, [system, user], { addGenerationPrompt: true })).toBe(
      "<｜begin▁of▁sentence｜>Be brief.<｜User｜>What is 2+2?<｜Assistant｜><think>\n",
    );
  });
  it("drops reasoning from a rendered assistant turn, as transformers does", () => {
    expect(renderChat(spec, [user, assistant])).toBe(
      "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜>\n\nThe answer is 4.<｜end▁of▁sentence｜>",
    );
  });
  it("keeps the reasoning in the completion, continuing the opened think block", () => {
    expect(toEngineExample(example, spec)).toEqual({
      prompt: "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜><think>\n",
      completion: "2 plus 2 is 4.\n</think>\n\nThe answer is 4.<｜end▁of▁sentence｜>",
    });
  });
  it("closes an empty think block for rows without reasoning", () => {
    const noThink = { ...example, reasoning: null, think: "missing" as const };
    expect(toEngineExample(noThink, spec).completion).toBe(
      "\n</think>\n\nThe answer is 4.<｜end▁of▁sentence｜>",
    );
  });
});

describe("a model's own template", () => {
  const config = {
    bos_token: { content: "<s>", lstrip: false },
    eos_token: "</s>",
    chat_template: [
      { name: "tool_use", template: "nope" },
      {
        name: "default",
        template:
          "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}",
      },
    ],
    added_tokens_decoder: {
      "0": { content: "<s>", special: true },
      "5": { content: "hello", special: false },
    },
  };
  it("reads the default template and its tokens from tokenizer_config.json", () => {
    const spec = getModelTemplate(config, "tiny/model");
    expect(spec.bosToken).toBe("<s>");
    expect(spec.specialTokens).toEqual(["<s>", "<think>", "</think>"]);
    expect(toEngineExample(example, spec)).toEqual({
      prompt: "<s>[user]What is 2+2?</s>[assistant]",
      completion: `${assistantContent}</s>`,
    });
  });
  it("names what is missing", () => {
    expect(() => resolveTemplate("model", { eos_token: "x" }, "a/b")).toThrow(/a\/b has no chat_template/);
    expect(() => resolveTemplate("model")).toThrow(/needs the model's tokenizer_config.json/);
  });

  it("prefers the folder's chat_template.jinja over tokenizer_config.json, as transformers does", () => {
    const config = { chat_template: "{{ 'old' }}", eos_token: "</s>" };
    expect(getModelTemplate(config, "a/b", "{{ 'new' }}").template).toBe("{{ 'new' }}");
    expect(resolveTemplate("model", { eos_token: "</s>" }, "a/b", "{{ 'file' }}").template).toBe(
      "{{ 'file' }}",
    );
    expect(getModelTemplate(config, "a/b").template).toBe("{{ 'old' }}");
    expect(() => resolveTemplate("vicuna")).toThrow(/unknown chat template "vicuna"/);
  });
  it("rejects a template whose generation prompt is not a prefix", () => {
    const spec = getModelTemplate({
      eos_token: "</s>",
      chat_template:
        "{% for m in messages %}{{ m.content }}{% endfor %}{% if add_generation_prompt %}<gen>{% endif %}",
    });
    expect(() => toEngineExample(example, spec)).toThrow(/generation prompt ends with "<gen>"/);
  });
});
