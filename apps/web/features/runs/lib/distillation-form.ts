import { DEFAULT_DISTILLATION, featureLayerIssues, ZRunConfig } from "@distillery/core";
import { getAtPath, setAtPath } from "./config-path.ts";
import { formatCount } from "./launch-summary.ts";
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

/**
 * The teacher reads the student's token ids (logit and on-policy compare distributions id by id,
 * feature matches hidden states position by position): the two tokenizers must agree, and the
 * launch refuses a teacher whose do not.
 */
export const needsSameTokenizer = (mode: string) => needsTeacher(mode);

/** Hidden-state matching: the feature mode itself, or added to a logit run. */
export const canMatchFeatures = (mode: string) => mode === "feature" || mode === "logit";

export const FEATURE_WEIGHT_FIELD: FieldSpec = {
  path: "distillation.feature.weight",
  label: "Feature loss weight",
  hint: "loss = cross-entropy (or the logit loss) + weight × hidden-state MSE",
};

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
  // a teacher endpoint answers logit and on-policy only (no hidden states for feature)
  if ((mode === "logit" || mode === "on-policy") && prev.teacherEndpoint)
    next.teacherEndpoint = prev.teacherEndpoint;
  // feature mode always matches hidden states; a logit run keeps the ones it was given
  if (mode === "feature") next.feature = prev.feature ?? { layers: [], weight: 1 };
  else if (mode === "logit" && prev.feature) next.feature = prev.feature;
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

/**
 * "logit distillation from mdl_x" for a run's header (", stored teacher logits tlg_y" when it
 * reads an artifact instead of running the teacher); null for sft (the studio's default).
 */
export function describeDistillation(config: unknown): string | null {
  const d = getAtPath(config, "distillation") as
    | { mode?: string; teacher?: { modelId?: string }; teacherLogits?: { artifactId?: string } }
    | undefined;
  if (!d?.mode || d.mode === "sft") return null;
  const stored = d.teacherLogits?.artifactId ? `, stored teacher logits ${d.teacherLogits.artifactId}` : "";
  return `${d.mode} distillation${d.teacher?.modelId ? ` from ${d.teacher.modelId}` : ""}${stored}`;
}

export interface LayerPair {
  student: number;
  teacher: number;
}

/** "6:12, 3:6" → student/teacher hidden-state pairs, or what is wrong with the text. */
export function parseLayerPairs(text: string): { pairs: LayerPair[] } | { error: string } {
  const parts = text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const pairs: LayerPair[] = [];
  for (const part of parts) {
    const m = /^(\d+)\s*:\s*(\d+)$/.exec(part);
    if (!m) return { error: `"${part}" is not student:teacher (two layer indexes, e.g. 2:4)` };
    pairs.push({ student: Number(m[1]), teacher: Number(m[2]) });
  }
  return { pairs };
}

export const formatLayerPairs = (pairs: readonly LayerPair[] | undefined) =>
  (pairs ?? []).map((p) => `${p.student}:${p.teacher}`).join(", ");

/**
 * Layer pairs past either model's depth, keyed by the field the form shows them at (the layers
 * input): the launch refuses them with the same words.
 */
export function featureLayerErrors(
  config: unknown,
  depths: { student: number | null; teacher: number | null },
): Record<string, string> {
  const feature = getAtPath(config, "distillation.feature") as
    | { layers?: LayerPair[]; weight?: number }
    | undefined;
  if (!feature?.layers?.length || depths.student === null || depths.teacher === null) return {};
  const issues = featureLayerIssues(
    { layers: feature.layers, weight: feature.weight ?? 1 },
    {
      student: depths.student,
      teacher: depths.teacher,
    },
  );
  return issues.length ? { "distillation.feature.layers": issues.map((i) => i.message).join("; ") } : {};
}

/**
 * Errors at one layer pair ("distillation.feature.layers.1.teacher", a duplicate or a layer past
 * the model's depth) shown at the one input that holds every pair; the first message wins.
 */
export function foldLayerErrors(errors: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const prefix = "distillation.feature.layers.";
  for (const [path, message] of Object.entries(errors)) {
    const key = path.startsWith(prefix) ? "distillation.feature.layers" : path;
    out[key] ??= message;
  }
  return out;
}

export type TokenizerStatus = "same" | "different" | "unknown" | "checking";

const TOKENIZER_WORDS: Record<TokenizerStatus, string> = {
  same: "same tokenizer",
  different: "different tokenizer",
  unknown: "tokenizer not checked",
  checking: "checking tokenizer…",
};

/**
 * A teacher picker option: name, size, whether it shares the student's tokenizer (when the mode
 * needs it and a student is picked) and whether the run's engine can load it.
 */
export function teacherOptionLabel(
  m: { name: string; engines: string[]; parameters: number | null },
  ctx: { engine: string; tokenizer: TokenizerStatus | null },
): string {
  const size = m.parameters ? ` · ${formatCount(m.parameters)}` : "";
  const tokenizer = ctx.tokenizer ? ` · ${TOKENIZER_WORDS[ctx.tokenizer]}` : "";
  const engine = m.engines.length === 0 || m.engines.includes(ctx.engine) ? "" : ` (not on ${ctx.engine})`;
  return `${m.name}${size}${tokenizer}${engine}`;
}
