import { describe, expect, it } from "vitest";
import { checkSequenceFit, shareAbove } from "./sequence-fit.ts";

// 100 rows: 50 in [0,128), 30 in [128,256), 20 in [256, ...) up to 511
const total = { edges: [0, 128, 256], counts: [50, 30, 20], max: 511, p99: 500 };
const prompt = { edges: [0, 128, 256], counts: [90, 6, 4], max: 400 };

describe("the max sequence length against the model and the data", () => {
  it("refuses a length over the model's context", () => {
    const fit = checkSequenceFit({ maxSeqLength: 640, contextLength: 128, modelName: "tiny", stats: null });
    expect(fit.error).toBe("640 is over tiny's context of 128 tokens: it cannot attend past it");
  });

  it("estimates the rows truncated and the answers lost from the histograms", () => {
    expect(shareAbove(total, 511)).toBe(0);
    expect(shareAbove(total, 255)).toBeCloseTo(0.2);
    expect(shareAbove(total, 127)).toBeCloseTo(0.5);
    const fit = checkSequenceFit({
      maxSeqLength: 256,
      contextLength: 2048,
      stats: { rows: 100, total, prompt, tokenizerName: "SmolLM2" },
    });
    expect(fit.error).toBeUndefined();
    expect(fit.truncatedShare).toBeCloseTo(0.2 - 20 / 256 / 100, 2);
    expect(fit.answerLostShare).toBeGreaterThan(0.03);
    expect(fit.warning).toMatch(/^20% of rows are longer than 256 tokens and lose their end/);
    expect(fit.warning).toMatch(/have a prompt that fills the window: they teach no answer at all/);
    expect(fit.warning).toMatch(/counted with SmolLM2's tokenizer\)\. 512 keeps 99% of rows whole/);
  });

  it("says when the rows were counted with another model's tokenizer, or in bytes", () => {
    const other = checkSequenceFit({
      maxSeqLength: 256,
      contextLength: 2048,
      modelName: "Qwen2.5-0.5B",
      stats: { rows: 100, total, prompt, tokenizerName: "SmolLM2" },
    });
    expect(other.warning).toMatch(
      /counted with SmolLM2's tokenizer, not Qwen2\.5-0\.5B's: recount the version with it for exact figures/,
    );
    const bytes = checkSequenceFit({
      maxSeqLength: 256,
      contextLength: 2048,
      modelName: "Qwen2.5-0.5B",
      stats: { rows: 100, total, prompt, tokenizerName: null },
    });
    expect(bytes.warning).toMatch(/counted in bytes, not tokens: recount the version/);
  });

  it("uses the exact count when the stats were taken at the same length, and is quiet when all fits", () => {
    const fit = checkSequenceFit({
      maxSeqLength: 256,
      contextLength: null,
      stats: { rows: 100, maxLength: 256, truncated: 7, total, prompt },
    });
    expect(fit.truncatedShare).toBe(0.07);
    expect(
      checkSequenceFit({ maxSeqLength: 1024, contextLength: 2048, stats: { rows: 100, total, prompt } }),
    ).toEqual({
      truncatedShare: 0,
      answerLostShare: 0,
    });
  });
});
