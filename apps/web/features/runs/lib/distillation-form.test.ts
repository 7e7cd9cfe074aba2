import { ZRunConfig } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { getAtPath } from "./config-path.ts";
import {
  applyDistillationMode,
  DISTILLATION_FIELDS,
  describeDistillation,
  distillationFieldsFor,
  distillationFieldValue,
  distillationModes,
  featureLayerErrors,
  foldLayerErrors,
  needsSameTokenizer,
  needsTeacher,
  parseLayerPairs,
  teacherOptionLabel,
} from "./distillation-form.ts";
import { runConfigControl } from "./schema-field.ts";

const base = () =>
  ZRunConfig.parse({ model: { id: "student" }, data: { datasetVersionId: "dsv_1" } }) as unknown as Record<
    string,
    unknown
  >;
const paths = (mode: string) => distillationFieldsFor(mode).map((f) => f.path);

describe("the Distillation section's fields per mode", () => {
  it("reads the modes from the schema", () => {
    expect(distillationModes()).toEqual(expect.arrayContaining(["sft", "logit", "on-policy"]));
    expect(distillationModes()[0]).toBe("sft");
  });

  it("sft shows no loss parameters and needs no teacher", () => {
    expect(paths("sft")).toEqual([]);
    expect(needsTeacher("sft")).toBe(false);
  });

  it("logit shows the divergence, temperature, alpha and top-k, not the sampling knobs", () => {
    expect(paths("logit")).toEqual([
      "distillation.beta",
      "distillation.temperature",
      "distillation.alpha",
      "distillation.topK",
    ]);
    expect(needsTeacher("logit")).toBe(true);
    expect(needsSameTokenizer("logit")).toBe(true);
  });

  it("on-policy adds lmbda and the student's sampling", () => {
    expect(paths("on-policy")).toEqual([
      "distillation.beta",
      "distillation.temperature",
      "distillation.alpha",
      "distillation.topK",
      "distillation.lmbda",
      "distillation.maxNewTokens",
      "distillation.samplingTemperature",
    ]);
    expect(needsSameTokenizer("on-policy")).toBe(true);
  });

  it("every field is in the schema, with a label no other section uses", () => {
    for (const f of DISTILLATION_FIELDS) expect(() => runConfigControl(f.path)).not.toThrow();
    // the on-policy sample length is not the Sampling section's "Max new tokens"
    const labels = DISTILLATION_FIELDS.map((f) => f.label);
    expect(labels).not.toContain("Max new tokens");
    expect(labels).not.toContain("Temperature");
    expect(labels).not.toContain("Alpha");
  });

  it("an emptied optional number is absent (the mode's default applies); others keep the text", () => {
    const beta = DISTILLATION_FIELDS.find((f) => f.path === "distillation.beta");
    const alpha = DISTILLATION_FIELDS.find((f) => f.path === "distillation.alpha");
    expect(distillationFieldValue(beta ?? {}, "")).toBeUndefined();
    expect(distillationFieldValue(beta ?? {}, 0.5)).toBe(0.5);
    expect(distillationFieldValue(alpha ?? {}, "")).toBe("");
  });
});

describe("the config a mode builds", () => {
  it("logit with a teacher parses, with the schema's defaults for the loss", () => {
    const { config, notes } = applyDistillationMode(base(), "logit");
    const withTeacher = {
      ...config,
      distillation: { ...(config.distillation as object), teacher: { modelId: "t" } },
    };
    const parsed = ZRunConfig.parse(withTeacher);
    expect(parsed.distillation).toMatchObject({
      mode: "logit",
      teacher: { modelId: "t" },
      temperature: 1,
      alpha: 0,
    });
    expect(parsed.distillation.beta).toBeUndefined();
    expect(notes).toEqual([]);
  });

  it("a teacher endpoint stays from logit to on-policy and goes with sft or feature", () => {
    const endpoint = { teacherId: "tch_1" };
    const logit = applyDistillationMode(base(), "logit").config;
    const picked = {
      ...logit,
      distillation: { ...(logit.distillation as object), teacherEndpoint: endpoint },
    };
    const onPolicy = applyDistillationMode(picked, "on-policy").config;
    expect(ZRunConfig.parse(onPolicy).distillation).toMatchObject({
      mode: "on-policy",
      teacherEndpoint: endpoint,
    });
    expect(
      getAtPath(applyDistillationMode(picked, "sft").config, "distillation.teacherEndpoint"),
    ).toBeUndefined();
    expect(
      getAtPath(applyDistillationMode(picked, "feature").config, "distillation.teacherEndpoint"),
    ).toBeUndefined();
  });

  it("without a teacher the schema names the teacher field", () => {
    const { config } = applyDistillationMode(base(), "logit");
    const r = ZRunConfig.safeParse(config);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join("."))).toContain("distillation.teacher.modelId");
  });

  it("keeps the teacher and the shared fields across logit → on-policy, resets what the new mode does not read", () => {
    let c = applyDistillationMode(base(), "logit").config;
    c = {
      ...c,
      distillation: {
        ...(c.distillation as object),
        teacher: { modelId: "t" },
        topK: 20,
        beta: 0.5,
        temperature: 2,
      },
    };
    const onPolicy = applyDistillationMode(c, "on-policy").config;
    expect(getAtPath(onPolicy, "distillation")).toMatchObject({
      mode: "on-policy",
      teacher: { modelId: "t" },
      topK: 20,
      beta: 0.5,
      temperature: 2,
      lmbda: 1,
    });
    // back to sft: no teacher, no top-k, nothing the text-only loss would ignore
    const sft = applyDistillationMode(onPolicy, "sft").config;
    expect(getAtPath(sft, "distillation.teacher")).toBeUndefined();
    expect(getAtPath(sft, "distillation.topK")).toBeUndefined();
    expect(getAtPath(sft, "distillation.beta")).toBeUndefined();
    expect(ZRunConfig.safeParse(sft).success).toBe(true);
    // and logit again starts from defaults: sft kept no stale loss values
    expect(getAtPath(applyDistillationMode(sft, "logit").config, "distillation.temperature")).toBe(1);
  });

  it("an on-policy value (lmbda) does not survive a switch to logit", () => {
    let c = applyDistillationMode(base(), "on-policy").config;
    c = { ...c, distillation: { ...(c.distillation as object), lmbda: 0.25 } };
    expect(getAtPath(applyDistillationMode(c, "logit").config, "distillation.lmbda")).toBe(1);
  });

  it("on-policy turns packing off and completion-only loss on, and says so", () => {
    const packed = {
      ...base(),
      training: { ...(base().training as object), packing: true, completionOnlyLoss: false },
    };
    const { config, notes } = applyDistillationMode(packed, "on-policy");
    expect(getAtPath(config, "training.packing")).toBe(false);
    expect(getAtPath(config, "training.completionOnlyLoss")).toBe(true);
    expect(notes).toEqual([
      expect.stringMatching(/^packing turned off/),
      expect.stringMatching(/^completion-only loss turned on/),
    ]);
    const parsed = ZRunConfig.safeParse({
      ...config,
      distillation: { ...(config.distillation as object), teacher: { modelId: "t" } },
    });
    expect(parsed.success).toBe(true);
  });

  it("describes a run's distillation for its header", () => {
    expect(describeDistillation(base())).toBeNull();
    expect(describeDistillation({ distillation: { mode: "logit", teacher: { modelId: "mdl_t" } } })).toBe(
      "logit distillation from mdl_t",
    );
    expect(
      describeDistillation({
        distillation: {
          mode: "logit",
          teacher: { modelId: "mdl_t" },
          teacherLogits: { artifactId: "tlg_1" },
        },
      }),
    ).toBe("logit distillation from mdl_t, stored teacher logits tlg_1");
  });
});

describe("feature (hidden-state) distillation in the form", () => {
  it("feature mode needs a teacher of the same tokenizer and shows no divergence fields", () => {
    expect(needsTeacher("feature")).toBe(true);
    expect(needsSameTokenizer("feature")).toBe(true);
    expect(paths("feature")).toEqual([]);
  });

  it("switching to feature starts an empty pair list the schema names; logit keeps the pairs, on-policy drops them", () => {
    const { config } = applyDistillationMode(base(), "feature");
    expect(getAtPath(config, "distillation.feature")).toEqual({ layers: [], weight: 1 });
    const withTeacher = {
      ...config,
      distillation: { ...(config.distillation as object), teacher: { modelId: "t" } },
    };
    const r = ZRunConfig.safeParse(withTeacher);
    expect(r.error?.issues.map((i) => i.path.join("."))).toEqual(["distillation.feature.layers"]);
    const filled = {
      ...withTeacher,
      distillation: {
        ...(withTeacher.distillation as object),
        feature: { layers: [{ student: 1, teacher: 2 }], weight: 0.5 },
      },
    };
    expect(ZRunConfig.safeParse(filled).success).toBe(true);
    const logit = applyDistillationMode(filled, "logit").config;
    expect(getAtPath(logit, "distillation.feature")).toEqual({
      layers: [{ student: 1, teacher: 2 }],
      weight: 0.5,
    });
    expect(ZRunConfig.safeParse(logit).success).toBe(true);
    expect(
      getAtPath(applyDistillationMode(logit, "on-policy").config, "distillation.feature"),
    ).toBeUndefined();
    expect(getAtPath(applyDistillationMode(logit, "sft").config, "distillation.feature")).toBeUndefined();
  });

  it("reads layer pairs as student:teacher, naming a part it cannot read", () => {
    expect(parseLayerPairs("2:4, 4 : 8")).toEqual({
      pairs: [
        { student: 2, teacher: 4 },
        { student: 4, teacher: 8 },
      ],
    });
    expect(parseLayerPairs("")).toEqual({ pairs: [] });
    expect(parseLayerPairs("2:4, 3")).toEqual({
      error: '"3" is not student:teacher (two layer indexes, e.g. 2:4)',
    });
  });

  it("refuses a pair past either model's depth at the layers input, before launch", () => {
    const c = {
      distillation: { mode: "feature", feature: { layers: [{ student: 3, teacher: 4 }], weight: 1 } },
    };
    expect(featureLayerErrors(c, { student: 2, teacher: 4 })).toEqual({
      "distillation.feature.layers":
        "student layer 3 does not exist: the student has 2 layers (hidden states 0..2)",
    });
    expect(featureLayerErrors(c, { student: 3, teacher: 4 })).toEqual({});
    expect(featureLayerErrors(c, { student: null, teacher: 4 })).toEqual({});
  });

  it("folds errors at one pair onto the layers input", () => {
    expect(
      foldLayerErrors({
        "distillation.feature.layers.1": "the pair student 1 / teacher 2 is listed twice",
        "distillation.feature.layers.0.teacher": "teacher layer 9 does not exist",
        "training.learningRate": "x",
      }),
    ).toEqual({
      "distillation.feature.layers": "the pair student 1 / teacher 2 is listed twice",
      "training.learningRate": "x",
    });
  });
});

describe("the teacher picker's options", () => {
  const m = { name: "Qwen2.5-7B", engines: ["hf"], parameters: 7.6e9 };
  it("names the model, its size, the tokenizer check and an engine that cannot load it", () => {
    expect(teacherOptionLabel(m, { engine: "hf", tokenizer: "same" })).toBe(
      "Qwen2.5-7B · 7.60B · same tokenizer",
    );
    expect(teacherOptionLabel(m, { engine: "local", tokenizer: "different" })).toBe(
      "Qwen2.5-7B · 7.60B · different tokenizer (not on local)",
    );
    expect(teacherOptionLabel({ ...m, parameters: null }, { engine: "hf", tokenizer: "checking" })).toBe(
      "Qwen2.5-7B · checking tokenizer…",
    );
    expect(teacherOptionLabel(m, { engine: "hf", tokenizer: null })).toBe("Qwen2.5-7B · 7.60B");
  });
});
