import { ZRunConfig } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { fieldErrorMap, getAtPath, setAtPath } from "./config-path.ts";

describe("config paths", () => {
  it("sets a nested value without touching the original", () => {
    const a = { training: { learningRate: 1e-4, epochs: 3 }, lora: { r: 8 } };
    const b = setAtPath(a, "training.learningRate", 2e-5);
    expect(b).toEqual({ training: { learningRate: 2e-5, epochs: 3 }, lora: { r: 8 } });
    expect(a.training.learningRate).toBe(1e-4);
    expect(b.lora).toBe(a.lora);
    expect(getAtPath(b, "training.learningRate")).toBe(2e-5);
  });

  it("maps the shared zod schema's issues, and the server's field names, to form fields", () => {
    const parsed = ZRunConfig.safeParse({
      model: { id: "m" },
      data: { datasetVersionId: "" },
      training: { learningRate: -1 },
    });
    expect(parsed.success).toBe(false);
    const errors = fieldErrorMap(parsed.success ? [] : parsed.error.issues);
    expect(errors["training.learningRate"]).toBe("learning rate must be positive");
    expect(errors["data.datasetVersionId"]).toBe("pick a dataset version");
    expect(fieldErrorMap([{ path: "body.config.model.id", message: "gone" }], "body.config.")).toEqual({
      "model.id": "gone",
    });
  });
});
