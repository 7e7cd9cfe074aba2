"use client";
import { getAtPath } from "../lib/config-path.ts";
import {
  DISTILLATION_MODE_HINTS,
  DISTILLATION_MODE_LABELS,
  type DistillationFieldSpec,
  distillationFieldsFor,
  distillationFieldValue,
  distillationModes,
  needsSameTokenizer,
  needsTeacher,
} from "../lib/distillation-form.ts";
import { formatCount } from "../lib/launch-summary.ts";
import { parametersOf } from "../lib/teacher-cost.ts";
import type { ModelView } from "../server/list-models.ts";
import type { TokenizerMatch } from "../server/teacher-tokenizers.ts";
import { type Bind, ConfigField } from "./config-field.tsx";
import { SelectField } from "./form-fields.tsx";

const TOKENIZER_WORDS: Record<TokenizerMatch["tokenizer"], string> = {
  same: "same tokenizer",
  different: "different tokenizer",
  unknown: "tokenizer not checked",
};

const sizeOf = (m: ModelView) => {
  const n = parametersOf(m);
  return n === null ? "" : ` · ${formatCount(n)}`;
};

/**
 * What the run learns from: the teacher's text (sft), or a teacher model loaded beside the
 * student (logit, on-policy, …) with the loss's parameters. Only the fields the chosen mode's
 * loss reads are shown; the teacher picker says, per model, whether it shares the student's
 * tokenizer (the launch refuses one that does not, and its answer lands on the same field).
 */
export function DistillationSection(props: {
  config: Record<string, unknown>;
  bind: Bind;
  onMode: (mode: string) => void;
  notes: string[];
  models: ModelView[] | undefined;
  student: ModelView | undefined;
  tokenizers: Record<string, TokenizerMatch> | undefined;
  isCheckingTokenizers: boolean;
}) {
  const { bind, config } = props;
  const mode = String(getAtPath(config, "distillation.mode") ?? "sft");
  const engine = String(getAtPath(config, "engine"));
  const teacherBind = bind("distillation.teacher.modelId");
  const teacherId = String(teacherBind.value ?? "");
  const teacher = props.models?.find((m) => m.id === teacherId);
  const checksTokenizer = needsSameTokenizer(mode);
  const match = teacher ? props.tokenizers?.[teacher.id] : undefined;
  const optionalBind = (spec: DistillationFieldSpec): Bind =>
    spec.isOptional
      ? (path) => {
          const b = bind(path);
          return { ...b, onChange: (v) => b.onChange(distillationFieldValue(spec, v)) };
        }
      : bind;
  return (
    <section className="panel" aria-labelledby="sec-distillation" data-testid="distillation-section">
      <h2 id="sec-distillation" className="panel-title">
        Distillation
      </h2>
      <div className="form-grid">
        <SelectField
          label="Distillation mode"
          {...bind("distillation.mode")}
          onChange={props.onMode}
          hint={
            <>
              {DISTILLATION_MODE_HINTS[mode]}
              {props.notes.map((n) => (
                <span key={n} className="warn-text" data-testid="distillation-note">
                  {" "}
                  · {n}
                </span>
              ))}
            </>
          }
          options={distillationModes().map((m) => ({ value: m, label: DISTILLATION_MODE_LABELS[m] ?? m }))}
        />
        {needsTeacher(mode) && (
          <SelectField
            label="Teacher model"
            {...teacherBind}
            placeholder={props.models ? "pick the teacher model" : "loading…"}
            hint={teacherHint({ teacher, student: props.student, match, checksTokenizer, engine })}
            options={(props.models ?? []).map((m) => ({
              value: m.id,
              label: `${m.name}${sizeOf(m)}${
                checksTokenizer && props.student
                  ? ` · ${props.tokenizers?.[m.id] ? TOKENIZER_WORDS[props.tokenizers[m.id]?.tokenizer ?? "unknown"] : props.isCheckingTokenizers ? "checking tokenizer…" : TOKENIZER_WORDS.unknown}`
                  : ""
              }${m.engines.includes(engine) ? "" : ` (not on ${engine})`}`,
            }))}
          />
        )}
        {distillationFieldsFor(mode).map((f) => (
          <ConfigField key={f.path} spec={f} bind={optionalBind(f)} />
        ))}
      </div>
    </section>
  );
}

function teacherHint(p: {
  teacher: ModelView | undefined;
  student: ModelView | undefined;
  match: TokenizerMatch | undefined;
  checksTokenizer: boolean;
  engine: string;
}) {
  if (!p.teacher) return "frozen: it runs forward beside the student, no gradients";
  const sizes =
    parametersOf(p.teacher) !== null && p.student && parametersOf(p.student) !== null
      ? `${formatCount(parametersOf(p.teacher) as number)} parameters vs the student's ${formatCount(parametersOf(p.student) as number)}`
      : null;
  const runsHere = p.teacher.engines.length === 0 || p.teacher.engines.includes(p.engine);
  return (
    <span data-testid="teacher-hint">
      {sizes}
      {!runsHere && (
        <span className="warn-text">
          {sizes ? " · " : ""}runs on {p.teacher.engines.join(", ")}, not on the {p.engine} engine
        </span>
      )}
      {p.checksTokenizer && p.match?.tokenizer === "same" && (
        <span data-testid="teacher-tokenizer">{sizes ? " · " : ""}same tokenizer as the student</span>
      )}
      {p.checksTokenizer && p.match && p.match.tokenizer !== "same" && (
        <span
          className={p.match.tokenizer === "different" ? "warn-text" : "muted"}
          data-testid="teacher-tokenizer"
        >
          {sizes ? " · " : ""}
          {p.match.reason}
          {p.match.tokenizer === "different" ? ": the launch will refuse it" : ""}
        </span>
      )}
    </span>
  );
}
