import type { RunConfig } from "@distillery/core";
import { countModelParameters } from "./launch-summary.ts";
import type { ModelShape } from "./model-shapes.ts";

/**
 * What a distillation teacher costs, next to the student: both sets of weights as the engine
 * holds them, and the teacher's forward as a share of the student's training compute. The
 * teacher is frozen and only runs forward: no gradients, no optimizer state.
 */

export interface ModelSize {
  /** the catalog's count (safetensors headers or config.json) */
  parameters: number | null;
  shape: ModelShape | null;
}

/** The count the catalog holds, else one from the model's shape. */
export function parametersOf(m: ModelSize | null): number | null {
  if (!m) return null;
  if (m.parameters && m.parameters > 0) return m.parameters;
  return m.shape ? countModelParameters(m.shape) : null;
}

/**
 * Bytes per weight as each engine holds a model: the CPU engine computes in float32; the GPU
 * trainer loads the frozen teacher in bf16 (the launch check uses the same figures), and the
 * student's base in the run's precision, or quantized for QLoRA.
 */
export function teacherBytesPerParameter(engine: string): number {
  return engine === "local" ? 4 : 2;
}

export function studentBytesPerParameter(config: Pick<RunConfig, "engine" | "training" | "lora">): number {
  if (config.engine === "local") return 4;
  if (config.lora.quantization === "nf4") return 0.5;
  if (config.lora.quantization === "int8") return 1;
  return config.training.precision === "fp32" ? 4 : 2;
}

export interface TeacherCost {
  studentParameters: number | null;
  teacherParameters: number | null;
  studentBytes: number | null;
  teacherBytes: number | null;
  /** teacher parameters per student parameter */
  sizeRatio: number | null;
  /**
   * the teacher's forward per token (≈ 2·P_teacher FLOPs) over the student's training step per
   * token (≈ 6·P_student: forward and backward), a rough share the run's compute grows by
   */
  extraComputeShare: number | null;
}

export function computeTeacherCost(input: {
  config: Pick<RunConfig, "engine" | "training" | "lora">;
  student: ModelSize | null;
  teacher: ModelSize | null;
}): TeacherCost {
  const s = parametersOf(input.student);
  const t = parametersOf(input.teacher);
  return {
    studentParameters: s,
    teacherParameters: t,
    studentBytes: s === null ? null : s * studentBytesPerParameter(input.config),
    teacherBytes: t === null ? null : t * teacherBytesPerParameter(input.config.engine),
    sizeRatio: s && t ? t / s : null,
    extraComputeShare: s && t ? (2 * t) / (6 * s) : null,
  };
}

/** 3_221_225_472 → "3.0 GiB" */
export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}
