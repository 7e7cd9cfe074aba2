"use client";
import { useState } from "react";
import { type TeacherView, useTeachers } from "@/features/teachers/hooks/use-teachers.ts";
import { getAtPath } from "../lib/config-path.ts";
import {
  canMatchFeatures,
  DISTILLATION_MODE_HINTS,
  DISTILLATION_MODE_LABELS,
  type DistillationFieldSpec,
  distillationFieldsFor,
  distillationFieldValue,
  distillationModes,
  FEATURE_WEIGHT_FIELD,
  formatLayerPairs,
  type LayerPair,
  needsSameTokenizer,
  needsTeacher,
  parseLayerPairs,
  teacherOptionLabel,
} from "../lib/distillation-form.ts";
import { formatCount } from "../lib/launch-summary.ts";
import { parametersOf } from "../lib/teacher-cost.ts";
import type { ModelView } from "../server/list-models.ts";
import type { TokenizerMatch } from "../server/teacher-tokenizers.ts";
import { type Bind, ConfigField } from "./config-field.tsx";
import { CheckboxField, SelectField, TextField } from "./form-fields.tsx";
import { TeacherLogitsPicker } from "./teacher-logits-picker.tsx";

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
  // logit / on-policy may ask a teacher endpoint (vLLM's prompt_logprobs) instead of a model
  const teachers = useTeachers();
  const endpointId = String(getAtPath(config, "distillation.teacherEndpoint.teacherId") ?? "");
  const endpoints = mode === "logit" || mode === "on-policy" ? endpointTeachers(teachers.data?.teachers) : [];
  const endpoint = endpoints.find((t) => t.id === endpointId);
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
            value={endpointId ? `${ENDPOINT_PREFIX}${endpointId}` : teacherBind.value}
            onChange={(v) => {
              const value = String(v ?? "");
              const isEndpoint = value.startsWith(ENDPOINT_PREFIX);
              bind(isEndpoint ? "distillation.teacher" : "distillation.teacherEndpoint").onChange(undefined);
              if (isEndpoint)
                bind("distillation.teacherEndpoint").onChange({
                  teacherId: value.slice(ENDPOINT_PREFIX.length),
                });
              else teacherBind.onChange(v);
            }}
            error={teacherBind.error ?? bind("distillation.teacherEndpoint.teacherId").error}
            placeholder={props.models ? "pick the teacher model" : "loading…"}
            hint={
              endpoint ? (
                <span data-testid="teacher-hint">
                  endpoint {endpoint.model} at {endpoint.baseUrl}: asked per batch for its top-k
                  prompt_logprobs (vLLM); its tokenizer is checked through its /tokenize at launch
                </span>
              ) : (
                teacherHint({ teacher, student: props.student, match, checksTokenizer, engine })
              )
            }
            options={[
              ...endpoints.map((t) => ({
                value: `${ENDPOINT_PREFIX}${t.id}`,
                label: `endpoint · ${t.name} (${t.model})`,
              })),
              ...(props.models ?? []).map((m) => ({
                value: m.id,
                label: teacherOptionLabel(
                  { ...m, parameters: parametersOf(m) },
                  {
                    engine,
                    tokenizer:
                      checksTokenizer && props.student
                        ? (props.tokenizers?.[m.id]?.tokenizer ??
                          (props.isCheckingTokenizers ? "checking" : "unknown"))
                        : null,
                  },
                ),
              })),
            ]}
          />
        )}
        {distillationFieldsFor(mode).map((f) => (
          <ConfigField key={f.path} spec={f} bind={optionalBind(f)} />
        ))}
      </div>
      {mode === "logit" && <TeacherLogitsPicker config={config} bind={bind} />}
      {canMatchFeatures(mode) && (
        <FeatureFields
          config={config}
          bind={bind}
          mode={mode}
          depths={{
            student: props.student?.shape?.numLayers ?? null,
            teacher: teacher?.shape?.numLayers ?? null,
          }}
        />
      )}
    </section>
  );
}

const ENDPOINT_PREFIX = "endpoint:";

/** teacher endpoints that may answer prompt_logprobs (OpenAI-compatible; ollama's API has none) */
function endpointTeachers(list: TeacherView[] | undefined): TeacherView[] {
  return (list ?? []).filter((t) => t.api === "openai");
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

/**
 * Hidden-state matching: the layer pairs (typed student:teacher, as transformers counts hidden
 * states) and the loss weight. Always on in feature mode; a logit run may add it.
 */
function FeatureFields(props: {
  config: Record<string, unknown>;
  bind: Bind;
  mode: string;
  depths: { student: number | null; teacher: number | null };
}) {
  const feature = getAtPath(props.config, "distillation.feature") as
    | { layers?: LayerPair[]; weight?: number }
    | undefined;
  const featureBind = props.bind("distillation.feature");
  const layersBind = props.bind("distillation.feature.layers");
  const [text, setText] = useState(formatLayerPairs(feature?.layers));
  const [parseError, setParseError] = useState<string | undefined>();
  const depthHint =
    props.depths.student !== null && props.depths.teacher !== null
      ? `student hidden states 0..${props.depths.student}, teacher 0..${props.depths.teacher} (0 = embeddings)`
      : "0 = the embeddings, i = the output of decoder layer i";
  return (
    <>
      {props.mode === "logit" && (
        <CheckboxField
          label="Also match hidden states (feature distillation)"
          value={feature !== undefined}
          error={featureBind.error}
          onChange={(on) => {
            featureBind.onChange(on ? { layers: [], weight: 1 } : undefined);
            setText("");
            setParseError(undefined);
          }}
        />
      )}
      {feature !== undefined && (
        <div className="form-grid">
          <TextField
            label="Layer pairs (student:teacher)"
            value={text}
            placeholder="e.g. 2:4, 4:8"
            error={parseError ?? layersBind.error}
            hint={`comma-separated; ${depthHint}; a learned projection bridges different widths`}
            onChange={(v) => {
              setText(v);
              const parsed = parseLayerPairs(v);
              if ("error" in parsed) {
                // the text goes to the config as it is, so the schema holds the launch back too
                setParseError(parsed.error);
                layersBind.onChange(v);
                return;
              }
              setParseError(undefined);
              layersBind.onChange(parsed.pairs);
            }}
          />
          <ConfigField spec={FEATURE_WEIGHT_FIELD} bind={props.bind} />
        </div>
      )}
    </>
  );
}
