"use client";
import { LORA_TARGET_MODULES } from "@distillery/core";
import { getAtPath } from "../lib/config-path.ts";
import { KNOWN_MODEL_SHAPES } from "../lib/model-shapes.ts";
import {
  DATA_FIELDS,
  EVAL_METRIC_LABELS,
  EVALUATION_FIELDS,
  EVALUATION_SWITCHES,
  MODEL_FIELDS,
} from "../lib/run-form-fields.ts";
import type { DatasetVersionOption } from "../server/list-dataset-versions.ts";
import type { ModelView } from "../server/list-models.ts";
import { type Bind, ConfigField } from "./config-field.tsx";
import { CheckboxField, SelectField, TextField } from "./form-fields.tsx";

const ENGINE_OPTIONS = [
  { value: "local", label: "local (CPU, engine-local)" },
  { value: "hf", label: "hf (GPU, transformers + peft)" },
];

export function ModelSection(props: {
  config: Record<string, unknown>;
  bind: Bind;
  setEngine: (v: unknown) => void;
  models: ModelView[] | undefined;
  isLoading: boolean;
}) {
  const { bind, config } = props;
  const engine = String(getAtPath(config, "engine"));
  const modelId = String(getAtPath(config, "model.id") ?? "");
  const model = props.models?.find((m) => m.id === modelId || m.hubId === modelId);
  const isHubId = engine === "hf" && !model && modelId !== "";
  const modelBind = bind("model.id");
  const cannot = model && !model.engines.includes(engine) ? model.engineReasons[engine] : undefined;
  return (
    <section className="panel" aria-labelledby="sec-model">
      <h2 id="sec-model" className="panel-title">
        Model
      </h2>
      <div className="form-grid">
        <SelectField label="Engine" {...bind("engine")} onChange={props.setEngine} options={ENGINE_OPTIONS} />
        <SelectField
          label="Base model"
          value={model ? model.id : isHubId ? "__hub" : modelId}
          error={modelBind.error ?? (cannot ? `the ${engine} engine cannot train it: ${cannot}` : undefined)}
          hint={
            model
              ? `${model.architecture}${model.contextLength ? ` · context ${model.contextLength.toLocaleString("en-US")}` : ""} · trains on ${model.engines.join(", ") || "no engine"}`
              : undefined
          }
          placeholder={props.isLoading ? "loading…" : "pick a base model"}
          onChange={(v) => modelBind.onChange(v === "__hub" ? "" : v)}
          options={[
            ...(props.models ?? []).map((m) => ({
              value: m.id,
              label: `${m.name}${m.parameters ? ` · ${(m.parameters / 1e6).toFixed(1)}M` : ""}${m.engines.includes(engine) ? "" : ` (not on ${engine})`}`,
            })),
            ...(engine === "hf" ? [{ value: "__hub", label: "a Hugging Face Hub id…" }] : []),
          ]}
        />
        {engine === "hf" && !model && (
          <TextField
            label="Hub model id"
            {...modelBind}
            placeholder="microsoft/Phi-3-mini-4k-instruct"
            list="hub-models"
          />
        )}
        {MODEL_FIELDS.map((f) => (
          <ConfigField key={f.path} spec={f} bind={bind} />
        ))}
      </div>
      <datalist id="hub-models">
        {Object.keys(KNOWN_MODEL_SHAPES).map((id) => (
          <option key={id} value={id} />
        ))}
      </datalist>
    </section>
  );
}

const versionOptions = (versions: DatasetVersionOption[] | undefined) =>
  (versions ?? []).map((v) => ({ value: v.id, label: `${v.label} · ${v.rows} rows` }));

export function DataSection(props: {
  bind: Bind;
  versions: DatasetVersionOption[] | undefined;
  isLoading: boolean;
  onVersion: (id: string) => void;
}) {
  const { bind, versions } = props;
  return (
    <section className="panel" aria-labelledby="sec-data">
      <h2 id="sec-data" className="panel-title">
        Data
      </h2>
      <div className="form-grid">
        <SelectField
          label="Dataset version"
          {...bind("data.datasetVersionId")}
          onChange={props.onVersion}
          placeholder={
            props.isLoading
              ? "loading…"
              : versions?.length
                ? "pick a dataset version"
                : "no ready dataset version"
          }
          options={versionOptions(versions)}
        />
        <SelectField
          label="Eval set"
          {...bind("data.evalDatasetVersionId")}
          onChange={(v) => bind("data.evalDatasetVersionId").onChange(v === "" ? undefined : v)}
          placeholder="a held-out share of the training data"
          options={versionOptions(versions)}
          hint="eval loss is computed on it during training"
        />
        {DATA_FIELDS.map((f) => (
          <ConfigField key={f.path} spec={f} bind={bind} />
        ))}
      </div>
    </section>
  );
}

export function TargetModules({ config, bind }: { config: Record<string, unknown>; bind: Bind }) {
  const targets = (getAtPath(config, "lora.targetModules") as string[] | undefined) ?? [];
  const b = bind("lora.targetModules");
  return (
    <fieldset className="targets">
      <legend>Target modules</legend>
      {LORA_TARGET_MODULES.map((m) => (
        <CheckboxField
          key={m}
          label={m}
          value={targets.includes(m)}
          onChange={(on) => b.onChange(on ? [...targets, m] : targets.filter((t) => t !== m))}
        />
      ))}
      {b.error && <span className="error">{b.error}</span>}
    </fieldset>
  );
}

/**
 * Before-vs-after evaluation: the base and the trained model answer the eval set's problems and
 * are scored against its reference answers. Off, the run has no `evaluation`.
 */
export function EvaluationSection(props: {
  config: Record<string, unknown>;
  bind: Bind;
  versions: DatasetVersionOption[] | undefined;
  onToggle: (on: boolean) => void;
}) {
  const evaluation = getAtPath(props.config, "evaluation") as { k?: number } | undefined;
  const isOn = evaluation !== undefined;
  const k = evaluation?.k ?? 1;
  const metrics = [
    "accuracy",
    "pass_at_1",
    ...(k > 1 ? ["cons_at_k"] : []),
    "format_compliance",
    "answered",
    "mean_reasoning_chars",
  ];
  return (
    <section className="panel" aria-labelledby="sec-evaluation">
      <h2 id="sec-evaluation" className="panel-title">
        Evaluation
      </h2>
      <CheckboxField label="Evaluate before and after training" value={isOn} onChange={props.onToggle} />
      {isOn && (
        <>
          <div className="form-grid">
            <SelectField
              label="Evaluation set"
              {...props.bind("evaluation.datasetVersionId")}
              placeholder="pick a version with reference answers"
              options={versionOptions(props.versions)}
              hint="each row's answer (or reference) is the expected final answer"
            />
            {EVALUATION_FIELDS.map((f) => (
              <ConfigField key={f.path} spec={f} bind={props.bind} />
            ))}
          </div>
          <div className="row">
            {EVALUATION_SWITCHES.map((f) => (
              <ConfigField key={f.path} spec={f} bind={props.bind} />
            ))}
          </div>
          <p className="muted small" data-testid="eval-metrics">
            Reports: {metrics.map((m) => EVAL_METRIC_LABELS[m]).join("; ")}.
          </p>
        </>
      )}
    </section>
  );
}
