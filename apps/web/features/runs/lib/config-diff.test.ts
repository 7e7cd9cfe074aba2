import { describe, expect, it } from "vitest";
import { diffConfigs, flattenConfig } from "./config-diff.ts";

describe("diffConfigs", () => {
  it("names the dotted paths that differ, with each run's value", () => {
    const a = {
      engine: "local",
      lora: { r: 8, targetModules: ["q_proj", "v_proj"] },
      training: { learningRate: 2e-5, epochs: 3 },
    };
    const b = {
      engine: "local",
      lora: { r: 16, targetModules: ["q_proj", "v_proj"] },
      training: { learningRate: 1e-4, epochs: 3 },
    };
    expect(diffConfigs([a, b])).toEqual([
      { path: "lora.r", values: [8, 16] },
      { path: "training.learningRate", values: [2e-5, 1e-4] },
    ]);
  });

  it("compares arrays as a whole and reports fields one config lacks", () => {
    const diffs = diffConfigs([
      { lora: { targetModules: ["q_proj"] }, name: "x" },
      { lora: { targetModules: ["q_proj", "k_proj"] } },
      { lora: { targetModules: ["q_proj"] }, name: "x" },
    ]);
    expect(diffs).toEqual([
      { path: "lora.targetModules", values: [["q_proj"], ["q_proj", "k_proj"], ["q_proj"]] },
      { path: "name", values: ["x", undefined, "x"] },
    ]);
  });

  it("finds nothing between equal configs", () => {
    expect(diffConfigs([{ a: { b: 1 } }, { a: { b: 1 } }])).toEqual([]);
  });

  it("flattens nested objects to dotted leaves", () => {
    expect(flattenConfig({ a: { b: { c: 1 } }, d: [1, 2] })).toEqual({ "a.b.c": 1, d: [1, 2] });
  });
});
