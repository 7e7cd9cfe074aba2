import { describe, expect, it } from "vitest";
import { resolveDistillationBeta } from "./distillation-config.ts";
import { ZRunConfig } from "./run-config.ts";

const base = { model: { id: "m" }, data: { datasetVersionId: "v" } };
const issuesOf = (config: unknown) => {
  const parsed = ZRunConfig.safeParse(config);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("distillation config", () => {
  it("defaults to sft, and old configs ({ method: 'sft' }) still parse as sft", () => {
    expect(ZRunConfig.parse(base).distillation.mode).toBe("sft");
    expect(ZRunConfig.parse({ ...base, distillation: { method: "sft" } }).distillation.mode).toBe("sft");
  });

  it("logit and on-policy need a teacher, named at its field", () => {
    expect(issuesOf({ ...base, distillation: { mode: "logit" } })).toEqual([
      expect.stringMatching(/^distillation\.teacher\.modelId: logit distillation learns from a teacher/),
    ]);
    expect(issuesOf({ ...base, distillation: { mode: "on-policy", teacher: { modelId: "t" } } })).toEqual([]);
    expect(issuesOf({ ...base, distillation: { mode: "sft", teacher: { modelId: "t" } } })).toEqual([
      expect.stringMatching(/^distillation\.mode: a teacher is set but the mode is sft/),
    ]);
  });

  it("refuses out-of-range beta, temperature, alpha and top-k, naming the field", () => {
    const t = { teacher: { modelId: "t" }, mode: "logit" };
    expect(issuesOf({ ...base, distillation: { ...t, beta: 1.5 } })).toEqual([
      "distillation.beta: beta must be in [0, 1]",
    ]);
    expect(issuesOf({ ...base, distillation: { ...t, temperature: 0 } })).toEqual([
      "distillation.temperature: temperature must be positive",
    ]);
    expect(issuesOf({ ...base, distillation: { ...t, alpha: 2 } })[0]).toMatch(/^distillation\.alpha/);
    expect(issuesOf({ ...base, distillation: { ...t, topK: 0 } })[0]).toMatch(/^distillation\.topK/);
  });

  it("on-policy with every batch sampled has no data to mix in", () => {
    expect(
      issuesOf({ ...base, distillation: { mode: "on-policy", teacher: { modelId: "t" }, alpha: 0.5 } }),
    ).toEqual([expect.stringMatching(/^distillation\.alpha: with lmbda 1/)]);
    expect(
      issuesOf({
        ...base,
        distillation: { mode: "on-policy", teacher: { modelId: "t" }, alpha: 0.5, lmbda: 0.5 },
      }),
    ).toEqual([]);
  });

  it("on-policy needs unpacked, completion-only batches", () => {
    const d = { mode: "on-policy", teacher: { modelId: "t" } };
    expect(issuesOf({ ...base, distillation: d, training: { packing: true } })).toEqual([
      expect.stringMatching(/^training\.packing: on-policy distillation samples/),
    ]);
    expect(issuesOf({ ...base, distillation: d, training: { completionOnlyLoss: false } })).toEqual([
      expect.stringMatching(/^training\.completionOnlyLoss: on-policy/),
    ]);
  });

  it("beta defaults per mode: forward KL for logit, reverse KL for on-policy", () => {
    expect(resolveDistillationBeta({ mode: "logit" })).toBe(0);
    expect(resolveDistillationBeta({ mode: "on-policy" })).toBe(1);
    expect(resolveDistillationBeta({ mode: "on-policy", beta: 0.5 })).toBe(0.5);
  });
});
