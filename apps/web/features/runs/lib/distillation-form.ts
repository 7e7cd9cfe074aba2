import { DEFAULT_DISTILLATION, ZRunConfig } from "@distillery/core";
import { getAtPath, setAtPath } from "./config-path.ts";
import type { FieldSpec } from "./run-form-fields.ts";
import { runConfigControl, schemaAt } from "./schema-field.ts";

/**
 * The run form's Distillation section: which fields each mode uses, and the config a change of
 * mode builds. The modes themselves are read from the schema (a mode added there appears here);
 * a field is shown only for the modes whose loss reads it, so no hidden value steers a run.
 */

export interface DistillationFieldSpec extends FieldSpec {
  /** the modes whose loss reads this field */
  modes: readonly string[];
  /** an optional number: an emptied input is absent (the mode's default applies), not "" */
  isOptional?: boolean;
}

const TEACHER_DISTRIBUTION_MODES = ["logit", "on-policy"] as const;

export const DISTILLATION_MODE_LABELS: Record<string, string> = {
  sft: "sft: fine-tune on the teacher's text",
  logit: "logit: match the teacher's token distribution",
  "on-policy": "on-policy: the teacher scores the student's own samples",
  feature: "feature: match the teacher's hidden states",
};

export const DISTILLATION_MODE_HINTS: Record<string, string> = {
  sft: "data distillation: the dataset holds the teacher's traces; no teacher model is loaded",
  logit:
    "the frozen teacher reads the same sequences; the student learns its whole next-token distribution, not only the sampled token",
  "on-policy":
    "the student samples completions and the teacher scores each sampled token (GKD); reverse KL by default",
  feature: "MSE between chosen student and teacher hidden layers, through a learned projection",
};

export const DISTILLATION_FIELDS: DistillationFieldSpec[] = [
  {
    path: "distillation.beta",
    label: "Divergence (beta)",
    hint: "0: forward KL(teacher‖student), 1: reverse KL, between: generalised JSD; empty: 0 for logit, 1 for on-policy",
    modes: TEACHER_DISTRIBUTION_MODES,
    isOptional: true,
  },
  {
    path: "distillation.temperature",
    label: "KD temperature",
    hint: "softens both distributions; the loss is scaled by T²",
    modes: TEACHER_DISTRIBUTION_MODES,
  },
  {
    path: "distillation.alpha",
    label: "CE weight (alpha)",
    hint: "loss = α · cross-entropy on the data + (1 − α) · divergence",
    modes: TEACHER_DISTRIBUTION_MODES,
  },
  {
    path: "distillation.topK",
    label: "Teacher top-k",
    hint: "compare on the teacher's k likeliest tokens plus one tail bucket; empty: the whole vocabulary",
    modes: TEACHER_DISTRIBUTION_MODES,
    isOptional: true,
  },
  {
    path: "distillation.lmbda",
    label: "On-policy share (lmbda)",
    hint: "share of batches the student samples itself (GKD's λ); the rest train on the data",
    modes: ["on-policy"],
  },
  {
    path: "distillation.maxNewTokens",
    label: "Sampled tokens per prompt",
    hint: "how long the student's own completions may run",
    modes: ["on-policy"],
  },
  {
    path: "distillation.samplingTemperature",
    label: "Student sampling temperature",
    modes: ["on-policy"],
  },
];

/** The modes the schema accepts, in its order. */
export function distillationModes(): string[] {
  const control = runConfigControl("distillation.mode");
  return control.kind === "select" ? control.options : ["sft"];
}

/** Every mode but sft learns from a teacher model loaded beside the student. */
export const needsTeacher = (mode: string) => mode !== "sft";

/** logit and on-policy compare distributions id by id: the two tokenizers must agree. */
export const needsSameTokenizer = (mode: string) =>
  (TEACHER_DISTRIBUTION_MODES as readonly string[]).includes(mode);

/** The fields shown for a mode (only those the schema has: a field it drops disappears). */
export function distillationFieldsFor(mode: string): DistillationFieldSpec[] {
  return DISTILLATION_FIELDS.filter((f) => f.modes.includes(mode) && schemaAt(ZRunConfig, f.path));
}

type Config = Record<string, unknown>;

export interface ModeChange {
  config: Config;
  /** what else the mode changed in the config, in words (shown under the mode) */
  notes: string[];
}

/**
 * The config after picking a mode. The distillation block starts from the schema's defaults and
 * keeps only what the new mode reads (the teacher, and the values of its fields), so switching
 * logit → sft → logit cannot leave a stale top-k behind. On-policy samples each prompt on its own
 * and trains on the sampled completion only: packing goes off and completion-only loss on, as
 * the schema requires, and the notes say so.
 */
export function applyDistillationMode(config: Config, mode: string): ModeChange {
  const prev = (getAtPath(config, "distillation") ?? {}) as Record<string, unknown>;
  const next: Record<string, unknown> = { ...DEFAULT_DISTILLATION, mode };
  if (needsTeacher(mode) && prev.teacher) next.teacher = prev.teacher;
  for (const f of distillationFieldsFor(mode)) {
    const key = f.path.slice("distillation.".length);
    if (prev[key] !== undefined) next[key] = prev[key];
  }
  let out = setAtPath(config, "distillation", next);
  const notes: string[] = [];
  if (mode === "on-policy") {
    if (getAtPath(out, "training.packing") === true) {
      out = setAtPath(out, "training.packing", false);
      notes.push("packing turned off: each prompt's completion is sampled on its own");
    }
    if (getAtPath(out, "training.completionOnlyLoss") === false) {
      out = setAtPath(out, "training.completionOnlyLoss", true);
      notes.push("completion-only loss turned on: the loss is on the sampled completions");
    }
  }
  return { config: out, notes };
}

/** The value an input of a distillation field hands the config: an emptied optional is absent. */
export function distillationFieldValue(spec: Pick<DistillationFieldSpec, "isOptional">, v: unknown): unknown {
  return spec.isOptional && (v === "" || (typeof v === "string" && v.trim() === "")) ? undefined : v;
}

/** "logit distillation from mdl_x" for a run's header; null for sft (the studio's default). */
export function describeDistillation(config: unknown): string | null {
  const d = getAtPath(config, "distillation") as
    | { mode?: string; teacher?: { modelId?: string } }
    | undefined;
  if (!d?.mode || d.mode === "sft") return null;
  return `${d.mode} distillation${d.teacher?.modelId ? ` from ${d.teacher.modelId}` : ""}`;
}
