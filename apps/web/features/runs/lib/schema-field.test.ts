import { describe, expect, it } from "vitest";
import { runConfigControl } from "./schema-field.ts";

describe("run-config fields read from the schema", () => {
  it("gives each field its control, options and bounds", () => {
    expect(runConfigControl("training.epochs")).toEqual({
      kind: "number",
      min: expect.any(Number),
      max: 1000,
      isInt: false,
    });
    expect(runConfigControl("training.maxSteps")).toMatchObject({ kind: "number", min: -1, isInt: true });
    expect(runConfigControl("training.scheduler")).toEqual({
      kind: "select",
      options: ["linear", "cosine", "constant", "constant_with_warmup"],
    });
    expect(runConfigControl("lora.useDora")).toEqual({ kind: "checkbox" });
    expect(runConfigControl("data.systemPrompt")).toEqual({ kind: "text" });
    expect(runConfigControl("sampling.prompts")).toEqual({ kind: "list" });
    expect(runConfigControl("evaluation.k")).toMatchObject({ kind: "number", min: 1, max: 64, isInt: true });
    expect(() => runConfigControl("training.epoch")).toThrow(/no field training.epoch/);
  });
});
