import { describe, expect, it } from "vitest";
import { normalizeCompletion } from "./normalize-completion.ts";

const openai = (message: Record<string, unknown>, finish = "stop") => ({
  choices: [{ message, finish_reason: finish }],
  usage: { prompt_tokens: 10, completion_tokens: 20, completion_tokens_details: { reasoning_tokens: 15 } },
});

describe("normalizeCompletion", () => {
  it("reads reasoning_content (DeepSeek, vLLM/SGLang with a parser)", () => {
    const c = normalizeCompletion(openai({ content: "\\boxed{5}", reasoning_content: " 2+3=5 " }));
    expect(c).toMatchObject({
      reasoning: "2+3=5",
      answer: "\\boxed{5}",
      finishReason: "stop",
      reasoningSource: "reasoning_content",
    });
    expect(c?.usage).toEqual({ promptTokens: 10, completionTokens: 20, reasoningTokens: 15 });
  });

  it("reads reasoning (newer vLLM, OpenRouter)", () => {
    const c = normalizeCompletion(openai({ content: "5", reasoning: "add" }));
    expect(c).toMatchObject({
      reasoning: "add",
      answer: "5",
      reasoningSource: "reasoning",
      think: "separate",
    });
  });

  it("reads ollama's message.thinking and its counts", () => {
    const c = normalizeCompletion({
      message: { content: "5", thinking: "add them" },
      done: true,
      done_reason: "stop",
      prompt_eval_count: 7,
      eval_count: 9,
    });
    expect(c).toMatchObject({
      reasoning: "add them",
      answer: "5",
      reasoningSource: "thinking",
      finishReason: "stop",
    });
    expect(c?.usage).toEqual({ promptTokens: 7, completionTokens: 9 });
  });

  it("splits inline <think> in the content", () => {
    const c = normalizeCompletion(openai({ content: "<think>\nstep one\n</think>\n\nThe answer is 4." }));
    expect(c).toMatchObject({
      reasoning: "step one",
      answer: "The answer is 4.",
      reasoningSource: "inline",
      think: "ok",
    });
  });

  it("splits a block the template opened (only </think> in the content)", () => {
    const c = normalizeCompletion(openai({ content: "step one\n</think>\n\n4" }));
    expect(c).toMatchObject({ reasoning: "step one", answer: "4", think: "ok" });
  });

  it("keeps an unclosed <think> as reasoning with no answer, and the length finish", () => {
    const c = normalizeCompletion(openai({ content: "<think>\nstep one, step tw" }, "length"));
    expect(c).toMatchObject({
      reasoning: "step one, step tw",
      answer: "",
      think: "unclosed",
      finishReason: "length",
    });
  });

  it("says 'none' when there is no reasoning anywhere", () => {
    const c = normalizeCompletion(openai({ content: "just 4" }));
    expect(c).toMatchObject({ reasoning: null, answer: "just 4", reasoningSource: "none", think: "missing" });
  });

  it("prefers a separate field and drops an empty echoed think block", () => {
    const c = normalizeCompletion(
      openai({ content: "<think></think>\n4", reasoning_content: "r", reasoning: "other" }),
    );
    expect(c).toMatchObject({ reasoning: "r", answer: "4", reasoningSource: "reasoning_content" });
  });

  it("estimates usage when the server reports none", () => {
    const c = normalizeCompletion(
      { choices: [{ message: { content: "abcd", reasoning_content: "abcdefgh" } }] },
      { promptTokensEstimate: 3 },
    );
    expect(c?.usage).toEqual({ promptTokens: 3, completionTokens: 3, reasoningTokens: 2, isEstimated: true });
  });

  it("returns null for an empty choice list", () => {
    expect(normalizeCompletion({ choices: [] })).toBeNull();
  });
});
