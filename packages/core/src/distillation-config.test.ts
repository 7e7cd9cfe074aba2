import { describe, expect, it } from "vitest";
import { featureLayerIssues, resolveDistillationBeta } from "./distillation-config.ts";
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

  it("feature mode needs layer pairs, runs alone or with logit, and has no alpha or top-k", () => {
    const t = { teacher: { modelId: "t" } };
    const layers = [{ student: 2, teacher: 5 }];
    expect(issuesOf({ ...base, distillation: { ...t, mode: "feature" } })).toEqual([
      expect.stringMatching(/^distillation\.feature\.layers: feature distillation matches hidden states/),
    ]);
    expect(issuesOf({ ...base, distillation: { ...t, mode: "feature", feature: { layers } } })).toEqual([]);
    expect(
      issuesOf({ ...base, distillation: { ...t, mode: "logit", feature: { layers, weight: 0.5 } } }),
    ).toEqual([]);
    expect(issuesOf({ ...base, distillation: { ...t, mode: "on-policy", feature: { layers } } })).toEqual([
      expect.stringMatching(
        /^distillation\.feature: hidden-state matching runs with mode feature or logit, not on-policy/,
      ),
    ]);
    expect(
      issuesOf({ ...base, distillation: { ...t, mode: "feature", feature: { layers }, alpha: 0.5 } }),
    ).toEqual([expect.stringMatching(/^distillation\.alpha: feature mode has no divergence/)]);
    expect(
      issuesOf({ ...base, distillation: { ...t, mode: "feature", feature: { layers }, topK: 5 } }),
    ).toEqual([expect.stringMatching(/^distillation\.topK: top-k applies/)]);
    expect(issuesOf({ ...base, distillation: { ...t, mode: "feature", feature: { layers: [] } } })).toEqual([
      "distillation.feature.layers: pick at least one student/teacher layer pair",
    ]);
    expect(
      issuesOf({
        ...base,
        distillation: { ...t, mode: "feature", feature: { layers: [{ student: -1, teacher: 1 }] } },
      }),
    ).toEqual(["distillation.feature.layers.0.student: a layer index is 0 (embeddings) or more"]);
    expect(
      issuesOf({
        ...base,
        distillation: { ...t, mode: "feature", feature: { layers: [...layers, ...layers] } },
      }),
    ).toEqual(["distillation.feature.layers.1: the pair student 2 / teacher 5 is listed twice"]);
    expect(
      issuesOf({ ...base, distillation: { ...t, mode: "feature", feature: { layers, weight: 0 } } }),
    ).toEqual(["distillation.feature.weight: the feature loss weight must be positive"]);
  });

  it("feature layer indexes past a model's depth are refused naming the field (checked at launch)", () => {
    const feature = {
      layers: [
        { student: 2, teacher: 5 },
        { student: 31, teacher: 24 },
      ],
      weight: 1,
    };
    expect(featureLayerIssues(feature, { student: 30, teacher: 24 })).toEqual([
      {
        path: ["distillation", "feature", "layers", 1, "student"],
        message: "student layer 31 does not exist: the student has 30 layers (hidden states 0..30)",
      },
    ]);
    expect(featureLayerIssues(feature, { student: 31, teacher: 24 })).toEqual([]);
    expect(featureLayerIssues(undefined, { student: 1, teacher: 1 })).toEqual([]);
  });

  it("stored teacher logits are for logit mode without feature matching", () => {
    const t = { teacher: { modelId: "t" }, teacherLogits: { artifactId: "a1" } };
    expect(issuesOf({ ...base, distillation: { ...t, mode: "logit" } })).toEqual([]);
    expect(issuesOf({ ...base, distillation: { ...t, mode: "on-policy" } })).toEqual([
      expect.stringMatching(
        /^distillation\.teacherLogits: stored teacher logits are read by logit mode only/,
      ),
    ]);
    expect(
      issuesOf({
        ...base,
        distillation: { ...t, mode: "logit", feature: { layers: [{ student: 1, teacher: 1 }] } },
      }),
    ).toEqual([expect.stringMatching(/^distillation\.teacherLogits: feature matching needs/)]);
  });

  it("a teacher endpoint stands in for the catalog teacher in logit and on-policy only", () => {
    const e = { teacherEndpoint: { teacherId: "t1" } };
    expect(issuesOf({ ...base, distillation: { ...e, mode: "logit" } })).toEqual([]);
    expect(issuesOf({ ...base, distillation: { ...e, mode: "on-policy" } })).toEqual([]);
    expect(issuesOf({ ...base, distillation: { ...e, mode: "logit", teacher: { modelId: "m2" } } })).toEqual([
      expect.stringMatching(/^distillation\.teacherEndpoint: pick one teacher/),
    ]);
    expect(
      issuesOf({ ...base, distillation: { ...e, mode: "feature", feature: { layers: [{ student: 1, teacher: 1 }] } } }),
    ).toEqual([
      expect.stringMatching(/^distillation\.teacher\.modelId: feature distillation/),
      expect.stringMatching(/^distillation\.teacherEndpoint: feature matching needs the teacher's hidden states/),
    ]);
    expect(issuesOf({ ...base, distillation: { ...e, mode: "sft" } })).toEqual([
      expect.stringMatching(/^distillation\.mode: a teacher endpoint is set but the mode is sft/),
    ]);
  });
});
