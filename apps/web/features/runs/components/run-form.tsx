"use client";
import { RUN_PRESETS, type RunConfigInput, ZEvaluationConfig, ZRunConfig } from "@distillery/core";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiError } from "@/lib/client/api.ts";
import {
  useDatasetVersions,
  useLaunchRun,
  useModels,
  useRunDetail,
  useTeacherLogitsChoices,
  useTeacherTokenizers,
  useThroughput,
  useVersionPrompts,
} from "../hooks/use-runs.ts";
import { fieldErrorMap, getAtPath, setAtPath } from "../lib/config-path.ts";
import {
  applyDistillationMode,
  featureLayerErrors,
  foldLayerErrors,
  needsSameTokenizer,
} from "../lib/distillation-form.ts";
import { KNOWN_MODEL_SHAPES } from "../lib/model-shapes.ts";
import { defaultsFor, pickModel } from "../lib/run-defaults.ts";
import { LORA_SECTION, SAMPLING_SECTION, TRAINING_SECTION } from "../lib/run-form-fields.ts";
import { checkSequenceFit } from "../lib/sequence-fit.ts";
import { type Bind, ConfigSection } from "./config-field.tsx";
import { DistillationSection } from "./distillation-section.tsx";
import { ExportSection } from "./export-section.tsx";
import { SelectField, TextField } from "./form-fields.tsx";
import { LaunchSummaryPanel } from "./launch-summary-panel.tsx";
import { DataSection, EvaluationSection, ModelSection, TargetModules } from "./run-form-sections.tsx";
import { teacherLogitsDraft } from "./teacher-logits-picker.tsx";

type PresetId = (typeof RUN_PRESETS)[number]["id"] | "data";
type FormConfig = Record<string, unknown>;

/** A preset with every default filled in (the dataset version stays for the person to pick). */
function presetForm(id: PresetId, datasetVersionId = ""): FormConfig {
  const preset = (RUN_PRESETS.find((p) => p.id === id) ?? RUN_PRESETS[0]).config;
  const parsed = ZRunConfig.parse({ ...preset, data: { ...preset.data, datasetVersionId: "placeholder" } });
  return { ...parsed, data: { ...parsed.data, datasetVersionId } } as FormConfig;
}

const SECTIONS = [
  "model",
  "data",
  "distillation",
  "lora",
  "training",
  "sampling",
  "evaluation",
  "export",
] as const;
/** the demo's training set: what the demo preset trains on, never its held-out set */
const DEMO_TRAINING_DATASET = "demo-arith-traces";

/**
 * The new-run form. One source of truth for validity: the same ZRunConfig the API parses runs
 * on every change, and its messages show next to their fields; the server's 400/422 answers
 * (`body.config.<field>`) land next to the same fields. On top of the schema, the max sequence
 * length is checked against the chosen model's context and the data's token lengths.
 */
export function RunForm(props: { cloneId?: string; datasetVersionId?: string; modelId?: string }) {
  const { cloneId } = props;
  const router = useRouter();
  const models = useModels();
  const versions = useDatasetVersions();
  const throughput = useThroughput();
  const clone = useRunDetail(cloneId ?? "");
  const launch = useLaunchRun();
  // "Use in a new run" (a dataset version) and "Train" (a model) start from defaults for them
  const isForData = Boolean(props.datasetVersionId || props.modelId);
  const [presetId, setPresetId] = useState<PresetId>(isForData ? "data" : "tiny-reasoning-demo");
  const [config, setConfig] = useState<FormConfig>(() =>
    isForData ? presetForm("seed-recipe", props.datasetVersionId ?? "") : presetForm("tiny-reasoning-demo"),
  );
  const [formKey, setFormKey] = useState(0);
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [isSubmitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [isStarted, setStarted] = useState(false);
  const [modeNotes, setModeNotes] = useState<string[]>([]);

  const versionId = String(getAtPath(config, "data.datasetVersionId") ?? "");
  const version = versions.data?.find((v) => v.id === versionId) ?? null;
  const prompts = useVersionPrompts(presetId === "data" && version ? version : null);

  const replaceConfig = useCallback((next: FormConfig) => {
    setConfig(next);
    setFormKey((k) => k + 1);
    setTouched(new Set());
    setServerErrors({});
    setModeNotes([]);
  }, []);

  // where the form starts: a clone, defaults for the given data or model, or the demo
  useEffect(() => {
    if (isStarted) return;
    if (cloneId) {
      if (!clone.data) return;
      const source = clone.data.run;
      // a run launched before a field existed lacks it: fill the defaults the API would
      const filled = ZRunConfig.safeParse(source.config);
      replaceConfig({
        ...((filled.success ? filled.data : source.config) as FormConfig),
        name: `${source.name} (clone)`,
      });
      setStarted(true);
      return;
    }
    if (!models.data || !versions.data) return;
    if (isForData) {
      const v = versions.data.find((x) => x.id === props.datasetVersionId) ?? null;
      replaceConfig(
        defaultsFor({ version: v, model: pickModel(models.data, props.modelId), samplePrompts: [] }),
      );
    } else {
      // the demo preset trains on the demo's traces when they are here; nothing else is guessed
      const traces = versions.data.find((v) => v.name === DEMO_TRAINING_DATASET);
      if (traces) setConfig((c) => setAtPath(c, "data.datasetVersionId", traces.id));
    }
    setStarted(true);
  }, [
    isStarted,
    cloneId,
    clone.data,
    models.data,
    versions.data,
    isForData,
    props.datasetVersionId,
    props.modelId,
    replaceConfig,
  ]);

  // the data's own prompts become the sample prompts, unless the person has typed some
  useEffect(() => {
    if (!prompts.data?.length || touched.has("sampling.prompts") || presetId !== "data") return;
    setConfig((c) => setAtPath(c, "sampling.prompts", prompts.data.slice(0, 3)));
    setFormKey((k) => k + 1);
  }, [prompts.data, touched, presetId]);

  const engine = String(getAtPath(config, "engine"));
  const modelId = String(getAtPath(config, "model.id") ?? "");
  const model = models.data?.find((m) => m.id === modelId || m.hubId === modelId);
  const shape = model?.shape ?? KNOWN_MODEL_SHAPES[modelId] ?? null;
  const mode = String(getAtPath(config, "distillation.mode") ?? "sft");
  const teacherId = String(getAtPath(config, "distillation.teacher.modelId") ?? "");
  const teacher = models.data?.find((m) => m.id === teacherId);
  const specialTokens = (getAtPath(config, "specialTokens") as string[] | undefined) ?? [];
  const tokenizers = useTeacherTokenizers(model?.id ?? "", specialTokens, needsSameTokenizer(mode));
  // a stored teacher-logits artifact replaces the teacher: the summary shows it (the picker's query)
  const artifactId = String(getAtPath(config, "distillation.teacherLogits.artifactId") ?? "");
  const logitsDraft = teacherLogitsDraft(config);
  const logitsChoices = useTeacherLogitsChoices(
    logitsDraft,
    mode === "logit" && artifactId !== "" && logitsDraft.template !== "",
  );
  const artifact = artifactId ? (logitsChoices.data?.find((a) => a.id === artifactId) ?? null) : null;

  const parsed = useMemo(() => ZRunConfig.safeParse(config), [config]);
  const maxSeqLength = Number(getAtPath(config, "training.maxSeqLength"));
  const fit = checkSequenceFit({
    maxSeqLength,
    contextLength: model?.contextLength ?? null,
    modelName: model?.name,
    stats: version?.tokenStats ?? null,
  });
  const depths = useMemo(
    () => ({ student: shape?.numLayers ?? null, teacher: teacher?.shape?.numLayers ?? null }),
    [shape, teacher],
  );
  const clientErrors = useMemo(() => {
    const errors = foldLayerErrors({
      ...(parsed.success ? {} : fieldErrorMap(parsed.error.issues)),
      ...featureLayerErrors(config, depths),
    });
    if (fit.error) errors["training.maxSeqLength"] ??= fit.error;
    return errors;
  }, [parsed, fit.error, config, depths]);
  const errorFor = (path: string) =>
    serverErrors[path] ??
    (isSubmitted || touched.has(path) || path === "training.maxSeqLength" ? clientErrors[path] : undefined);
  const set = (path: string) => (value: unknown) => {
    setConfig((c) => setAtPath(c, path, value));
    setTouched((t) => new Set(t).add(path));
    setServerErrors((e) => {
      const { [path]: _gone, ...rest } = e;
      return rest;
    });
  };
  const bind: Bind = (path) => ({
    value: getAtPath(config, path),
    onChange: set(path),
    error: errorFor(path),
  });

  // QLoRA and a Hub push need the hf engine: switching to local clears them, so no disabled
  // field is left holding a value the schema refuses
  const setEngine = (value: unknown) => {
    set("engine")(value);
    if (value !== "local") return;
    setConfig((c) => {
      const cleared = setAtPath(c, "lora.quantization", "none");
      return setAtPath(cleared, "export", {
        ...(getAtPath(cleared, "export") as object),
        hubRepo: undefined,
      });
    });
  };

  // a mode builds its own distillation block (and turns packing off for on-policy): the
  // notes say what else changed
  const setMode = (value: unknown) => {
    const next = applyDistillationMode(config, String(value));
    setConfig(next.config);
    setModeNotes(next.notes);
    setTouched((t) => new Set(t).add("distillation.mode"));
    setServerErrors((e) =>
      Object.fromEntries(
        Object.entries(e).filter(([p]) => !p.startsWith("distillation.") && !p.startsWith("training.")),
      ),
    );
  };

  const applyPreset = (id: PresetId) => {
    setPresetId(id);
    replaceConfig(
      id === "data"
        ? defaultsFor({
            version,
            model: model ?? pickModel(models.data ?? []),
            samplePrompts: prompts.data ?? [],
          })
        : presetForm(id, versionId),
    );
  };

  const toggleEvaluation = (on: boolean) => {
    const evalSet = String(getAtPath(config, "data.evalDatasetVersionId") ?? "");
    set("evaluation")(
      on ? { ...ZEvaluationConfig.parse({ datasetVersionId: "x" }), datasetVersionId: evalSet } : undefined,
    );
  };

  const maxSteps = Number(getAtPath(config, "training.maxSteps"));
  const override = (spec: { path: string }) => {
    if (spec.path === "training.epochs" && maxSteps > 0)
      return { disabled: true, hint: `unused: max steps (${maxSteps}) decides how long the run trains` };
    if (spec.path === "training.maxSeqLength" && fit.warning)
      return { hint: <span className="warn-text">{fit.warning}</span> };
    if (spec.path === "lora.quantization")
      return engine === "local"
        ? {
            disabled: true,
            hint: "the local (CPU) engine trains an unquantized base: QLoRA needs the hf engine",
          }
        : { hint: "QLoRA: the frozen base in 4 or 8 bits via bitsandbytes on the GPU worker" };
    return undefined;
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (Object.keys(clientErrors).length > 0) return;
    try {
      const run = await launch.mutateAsync(config as RunConfigInput);
      router.push(`/runs/${run.id}`);
    } catch (err) {
      if (err instanceof ApiError)
        setServerErrors(
          foldLayerErrors(
            fieldErrorMap(
              err.errors.map((x) => ({ path: x.field, message: x.message })),
              "body.config.",
            ),
          ),
        );
    }
  };

  const errorCount = Object.keys(clientErrors).length;
  return (
    <form onSubmit={submit} noValidate className="run-form" key={formKey}>
      <div className="panel row">
        <SelectField
          label="Preset"
          value={presetId}
          onChange={(v) => applyPreset(v as PresetId)}
          options={[
            { value: "data", label: "Defaults for the chosen data and model" },
            ...RUN_PRESETS.map((p) => ({ value: p.id, label: p.label })),
          ]}
        />
        <TextField label="Run name" {...bind("name")} placeholder="optional" />
        {cloneId && (
          <span className="muted">
            {clone.data
              ? `cloned from ${clone.data.run.name}`
              : clone.error
                ? `cannot clone: ${clone.error.message}`
                : "loading the run to clone…"}
          </span>
        )}
      </div>
      <ModelSection
        config={config}
        bind={bind}
        setEngine={setEngine}
        models={models.data}
        isLoading={models.isLoading}
      />
      <DataSection
        bind={bind}
        versions={versions.data}
        isLoading={versions.isLoading}
        onVersion={(id) => set("data.datasetVersionId")(id)}
      />
      <DistillationSection
        config={config}
        bind={bind}
        onMode={setMode}
        notes={modeNotes}
        models={models.data}
        student={model}
        tokenizers={tokenizers.data?.teachers}
        isCheckingTokenizers={tokenizers.isFetching}
      />
      <ConfigSection {...LORA_SECTION} bind={bind} override={override}>
        <TargetModules config={config} bind={bind} />
      </ConfigSection>
      <ConfigSection {...TRAINING_SECTION} bind={bind} override={override} />
      <ConfigSection {...SAMPLING_SECTION} bind={bind} />
      <EvaluationSection config={config} bind={bind} versions={versions.data} onToggle={toggleEvaluation} />
      <ExportSection engine={engine} bind={bind} />

      <section className="panel" aria-labelledby="sec-summary">
        <h2 id="sec-summary" className="panel-title">
          Summary
        </h2>
        <LaunchSummaryPanel
          config={parsed.success ? parsed.data : null}
          shape={shape}
          dataset={version ? { rows: version.rows, meanTokens: version.meanTokens } : null}
          throughput={throughput.data?.[engine] ?? null}
          fit={fit}
          student={model ?? (shape ? { parameters: null, shape } : null)}
          teacher={teacher ?? null}
          artifact={artifact}
        />
        <div className="row">
          <button type="submit" disabled={launch.isPending}>
            {launch.isPending ? "Launching…" : "Launch run"}
          </button>
          {isSubmitted && errorCount > 0 && (
            <span className="error">
              {errorCount} field{errorCount > 1 ? "s need" : " needs"} fixing
            </span>
          )}
          {launch.error && (
            <span className="error" data-testid="launch-error">
              {launch.error.message}
            </span>
          )}
        </div>
        {isSubmitted && errorCount > 0 && (
          <ul className="error" data-testid="form-errors">
            {Object.entries(clientErrors).map(([path, message]) => (
              <li key={path}>
                {SECTIONS.find((s) => path.startsWith(s)) ?? "config"}: {path} — {message}
              </li>
            ))}
          </ul>
        )}
      </section>
    </form>
  );
}
