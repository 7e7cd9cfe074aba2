import { describe, expect, it } from "vitest";
import {
  defaultsFor,
  type ModelChoice,
  pickModel,
  suggestMaxSeqLength,
  type VersionChoice,
} from "./run-defaults.ts";

const demo: ModelChoice = {
  id: "m0",
  name: "distillery/tiny-arith-student",
  engines: ["local"],
  contextLength: 128,
  hasChatTemplate: true,
  parameters: 1e6,
};
const smol: ModelChoice = {
  id: "m1",
  name: "HuggingFaceTB/SmolLM2-135M",
  engines: ["local", "hf"],
  contextLength: 8192,
  hasChatTemplate: true,
  parameters: 134e6,
};
const phi: ModelChoice = {
  id: "m2",
  name: "phi",
  engines: ["hf"],
  contextLength: 4096,
  hasChatTemplate: true,
  parameters: 3.8e9,
};
const stratos: VersionChoice = {
  id: "v1",
  name: "stratos",
  version: 2,
  rows: 1000,
  template: "chatml",
  tokenStats: { total: { p99: 1500, max: 3000 } },
};

describe("a new run's defaults for a dataset version", () => {
  it("starts from the data's name, its template, a trainable non-demo model and its prompts", () => {
    const c = defaultsFor({
      version: stratos,
      model: pickModel([demo, smol]),
      samplePrompts: ["a?", "b?", "c?", "d?"],
    }) as {
      name: string;
      engine: string;
      model: { id: string };
      data: { datasetVersionId: string; template: string };
      training: { maxSeqLength: number; maxSteps: number; epochs: number };
      sampling: { prompts: string[] };
    };
    expect(c.name).toBe("stratos v2 · HuggingFaceTB/SmolLM2-135M");
    expect(c.engine).toBe("local");
    expect(c.model.id).toBe("m1");
    expect(c.data).toMatchObject({ datasetVersionId: "v1", template: "chatml" });
    expect(c.training).toMatchObject({ maxSeqLength: 1536, maxSteps: -1, epochs: 3 });
    expect(c.sampling.prompts).toEqual(["a?", "b?", "c?"]);
  });

  it("keeps the length within the model's context, and picks the GPU engine for a model only it trains", () => {
    expect(suggestMaxSeqLength(stratos, demo)).toBe(128);
    expect(suggestMaxSeqLength(null, smol)).toBe(1024);
    expect(
      (defaultsFor({ version: stratos, model: phi, samplePrompts: [] }) as { engine: string }).engine,
    ).toBe("hf");
    expect(pickModel([demo])).toBe(demo);
    expect(pickModel([demo, smol], "m0")).toBe(demo);
  });
});
