import { ZRunConfig } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { countModelParameters } from "./launch-summary.ts";
import { KNOWN_MODEL_SHAPES } from "./model-shapes.ts";
import { computeTeacherCost, formatBytes, parametersOf, studentBytesPerParameter } from "./teacher-cost.ts";

const config = (over: Record<string, unknown> = {}) =>
  ZRunConfig.parse({ model: { id: "s" }, data: { datasetVersionId: "d" }, ...over });

describe("what a teacher costs next to the student", () => {
  it("prefers the catalog's count, else counts the shape", () => {
    const shape = KNOWN_MODEL_SHAPES["Qwen/Qwen2.5-0.5B-Instruct"] ?? null;
    expect(parametersOf({ parameters: 123, shape })).toBe(123);
    expect(parametersOf({ parameters: null, shape })).toBe(countModelParameters(shape as never));
    expect(parametersOf({ parameters: null, shape: null })).toBeNull();
  });

  it("on the CPU engine both are float32; the teacher is 4 bytes a weight, its forward ⅓ of a step per size ratio", () => {
    const c = computeTeacherCost({
      config: config(),
      student: { parameters: 100e6, shape: null },
      teacher: { parameters: 300e6, shape: null },
    });
    expect(c).toEqual({
      studentParameters: 100e6,
      teacherParameters: 300e6,
      studentBytes: 400e6,
      teacherBytes: 1200e6,
      sizeRatio: 3,
      extraComputeShare: 1,
    });
  });

  it("on GPUs the teacher is bf16; the student follows precision and QLoRA", () => {
    const hf = config({ engine: "hf", training: { precision: "bf16" } });
    const c = computeTeacherCost({
      config: hf,
      student: { parameters: 1e9, shape: null },
      teacher: { parameters: 7e9, shape: null },
    });
    expect(c.teacherBytes).toBe(14e9);
    expect(c.studentBytes).toBe(2e9);
    expect(studentBytesPerParameter(config({ engine: "hf", lora: { quantization: "nf4" } }))).toBe(0.5);
    expect(studentBytesPerParameter(config({ engine: "hf", training: { precision: "fp32" } }))).toBe(4);
  });

  it("unknown sizes stay unknown", () => {
    const c = computeTeacherCost({
      config: config(),
      student: null,
      teacher: { parameters: 5, shape: null },
    });
    expect(c.teacherParameters).toBe(5);
    expect(c.studentParameters).toBeNull();
    expect(c.sizeRatio).toBeNull();
    expect(c.extraComputeShare).toBeNull();
  });

  it("formats bytes in binary units", () => {
    expect(formatBytes(3 * 2 ** 30)).toBe("3.0 GiB");
    expect(formatBytes(1.5 * 2 ** 20)).toBe("1.5 MiB");
    expect(formatBytes(100)).toBe("100 B");
  });
});
