"use client";
import {
  CHAT_TEMPLATE_IDS,
  LORA_QUANTIZATIONS,
  LORA_TARGET_MODULES,
  RUN_PRESETS,
  type RunConfigInput,
  ZRunConfig,
} from "@distillery/core";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import { ApiError } from "@/lib/client/api.ts";
import {
  useDatasetVersions,
  useLaunchRun,
  useModels,
  useRunDetail,
  useThroughput,
} from "../hooks/use-runs.ts";
import { fieldErrorMap, getAtPath, setAtPath } from "../lib/config-path.ts";
import { KNOWN_MODEL_SHAPES } from "../lib/model-shapes.ts";
import { ExportSection } from "./export-section.tsx";
import { CheckboxField, NumberField, SelectField, TextAreaField, TextField } from "./form-fields.tsx";
import { LaunchSummaryPanel } from "./launch-summary-panel.tsx";

type PresetId = (typeof RUN_PRESETS)[number]["id"];
type FormConfig = Record<string, unknown>;

/** A preset with every default filled in (the dataset version stays for the person to pick). */
function presetForm(id: PresetId, datasetVersionId = ""): FormConfig {
  const preset = (RUN_PRESETS.find((p) => p.id === id) ?? RUN_PRESETS[0]).config;
  const parsed = ZRunConfig.parse({ ...preset, data: { ...preset.data, datasetVersionId: "placeholder" } });
  return { ...parsed, data: { ...parsed.data, datasetVersionId } } as FormConfig;
}

const SECTIONS = ["model", "data", "lora", "training", "sampling", "export"] as const;

const QUANTIZATION_LABELS: Record<(typeof LORA_QUANTIZATIONS)[number], string> = {
  none: "none",
  nf4: "nf4 (4-bit QLoRA)",
  int8: "int8 (8-bit)",
};

/**
 * The new-run form. One source of truth for validity: the same ZRunConfig the API parses runs
 * on every change, and its messages show next to their fields; the server's 400/422 answers
 * (`body.config.<field>`) land next to the same fields.
 */
export function RunForm({ cloneId, datasetVersionId }: { cloneId?: string; datasetVersionId?: string }) {
  const router = useRouter();
  const models = useModels();
  const versions = useDatasetVersions();
  const throughput = useThroughput();
  const clone = useRunDetail(cloneId ?? "");
  const launch = useLaunchRun();
  const [presetId, setPresetId] = useState<PresetId>("tiny-reasoning-demo");
  // "Use in a new run" on a dataset version links here with ?datasetVersionId=
  const [config, setConfig] = useState<FormConfig>(() =>
    presetForm("tiny-reasoning-demo", datasetVersionId ?? ""),
  );
  const [formKey, setFormKey] = useState(0);
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [isSubmitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [isCloneApplied, setCloneApplied] = useState(false);

  useEffect(() => {
    if (!cloneId || isCloneApplied || !clone.data) return;
    const source = clone.data.run;
    // a run launched before a field existed lacks it: fill the defaults the API would, so the
    // form shows what the clone will run with
    const filled = ZRunConfig.safeParse(source.config);
    const config = (filled.success ? filled.data : source.config) as FormConfig;
    setConfig({ ...config, name: `${source.name} (clone)` });
    setFormKey((k) => k + 1);
    setCloneApplied(true);
  }, [cloneId, clone.data, isCloneApplied]);

  // the first ready version is picked for a fresh form, so the demo launches in one click
  useEffect(() => {
    const first = versions.data?.[0];
    if (!cloneId && first && getAtPath(config, "data.datasetVersionId") === "") {
      setConfig((c) => setAtPath(c, "data.datasetVersionId", first.id));
    }
  }, [versions.data, cloneId, config]);

  const parsed = useMemo(() => ZRunConfig.safeParse(config), [config]);
  const clientErrors = useMemo(() => (parsed.success ? {} : fieldErrorMap(parsed.error.issues)), [parsed]);
  const errorFor = (path: string) =>
    serverErrors[path] ?? (isSubmitted || touched.has(path) ? clientErrors[path] : undefined);
  const set = (path: string) => (value: unknown) => {
    setConfig((c) => setAtPath(c, path, value));
    setTouched((t) => new Set(t).add(path));
    setServerErrors((e) => {
      const { [path]: _gone, ...rest } = e;
      return rest;
    });
  };
  const bind = (path: string) => ({
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

  const applyPreset = (id: PresetId) => {
    setPresetId(id);
    setConfig(presetForm(id, String(getAtPath(config, "data.datasetVersionId") ?? "")));
    setFormKey((k) => k + 1);
    setTouched(new Set());
    setServerErrors({});
  };

  const engine = String(getAtPath(config, "engine"));
  const modelId = String(getAtPath(config, "model.id") ?? "");
  const model = models.data?.find((m) => m.id === modelId || m.hubId === modelId);
  const version = versions.data?.find((v) => v.id === getAtPath(config, "data.datasetVersionId"));
  const shape = model?.shape ?? KNOWN_MODEL_SHAPES[modelId] ?? null;
  const isHubId = engine === "hf" && !model && modelId !== "";

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (!parsed.success) return;
    try {
      const run = await launch.mutateAsync(config as RunConfigInput);
      router.push(`/runs/${run.id}`);
    } catch (err) {
      if (err instanceof ApiError)
        setServerErrors(
          fieldErrorMap(
            err.errors.map((x) => ({ path: x.field, message: x.message })),
            "body.config.",
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
          options={RUN_PRESETS.map((p) => ({ value: p.id, label: p.label }))}
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

      <section className="panel" aria-labelledby="sec-model">
        <h2 id="sec-model" className="panel-title">
          Model
        </h2>
        <div className="form-grid">
          <SelectField
            label="Engine"
            {...bind("engine")}
            onChange={setEngine}
            options={[
              { value: "local", label: "local (CPU, engine-local)" },
              { value: "hf", label: "hf (GPU, transformers + peft)" },
            ]}
          />
          <SelectField
            label="Base model"
            value={model ? model.id : isHubId ? "__hub" : modelId}
            error={errorFor("model.id")}
            placeholder={models.isLoading ? "loading…" : "pick a base model"}
            onChange={(v) => set("model.id")(v === "__hub" ? "" : v)}
            options={[
              ...(models.data ?? []).map((m) => ({
                value: m.id,
                label: `${m.name}${m.parameters ? ` · ${(m.parameters / 1e6).toFixed(1)}M` : ""}`,
              })),
              ...(engine === "hf" ? [{ value: "__hub", label: "a Hugging Face Hub id…" }] : []),
            ]}
          />
          {engine === "hf" && !model && (
            <TextField
              label="Hub model id"
              {...bind("model.id")}
              placeholder="microsoft/Phi-3-mini-4k-instruct"
              list="hub-models"
            />
          )}
          <TextField
            label="Special tokens"
            value={((getAtPath(config, "specialTokens") as string[] | undefined) ?? []).join(", ")}
            onChange={(v) =>
              set("specialTokens")(
                v
                  .split(",")
                  .map((s) => s.trim())
                  .filter(Boolean),
              )
            }
            error={errorFor("specialTokens")}
            hint="added to the tokenizer; their embedding rows train"
          />
          <TextField label="Pad token" {...bind("padToken")} hint='"eos" sets pad = eos' />
        </div>
        <datalist id="hub-models">
          {Object.keys(KNOWN_MODEL_SHAPES).map((id) => (
            <option key={id} value={id} />
          ))}
        </datalist>
      </section>

      <section className="panel" aria-labelledby="sec-data">
        <h2 id="sec-data" className="panel-title">
          Data
        </h2>
        <div className="form-grid">
          <SelectField
            label="Dataset version"
            {...bind("data.datasetVersionId")}
            placeholder={
              versions.isLoading
                ? "loading…"
                : versions.data?.length
                  ? "pick a dataset version"
                  : "no ready dataset version"
            }
            options={(versions.data ?? []).map((v) => ({
              value: v.id,
              label: `${v.label} · ${v.rows} rows`,
            }))}
          />
          <SelectField label="Chat template" {...bind("data.template")} options={CHAT_TEMPLATE_IDS} />
          <NumberField label="Eval fraction" {...bind("data.evalFraction")} />
          <TextField label="System prompt" {...bind("data.systemPrompt")} placeholder="optional" />
        </div>
      </section>

      <section className="panel" aria-labelledby="sec-lora">
        <h2 id="sec-lora" className="panel-title">
          LoRA
        </h2>
        <div className="form-grid">
          <SelectField label="Method" {...bind("lora.method")} options={["lora", "full"]} />
          <NumberField label="Rank (r)" {...bind("lora.r")} />
          <NumberField label="Alpha" {...bind("lora.alpha")} />
          <NumberField label="Dropout" {...bind("lora.dropout")} />
          <SelectField label="Bias" {...bind("lora.bias")} options={["none", "all", "lora_only"]} />
          <SelectField
            label="Quantization"
            {...bind("lora.quantization")}
            disabled={engine === "local"}
            options={LORA_QUANTIZATIONS.map((q) => ({ value: q, label: QUANTIZATION_LABELS[q] }))}
            hint={
              engine === "local"
                ? "the local (CPU) engine trains an unquantized base: QLoRA needs the hf engine"
                : "QLoRA: the frozen base in 4 or 8 bits via bitsandbytes on the GPU worker; the merge uses an unquantized copy"
            }
          />
        </div>
        <fieldset className="targets">
          <legend>Target modules</legend>
          {LORA_TARGET_MODULES.map((m) => {
            const targets = (getAtPath(config, "lora.targetModules") as string[] | undefined) ?? [];
            return (
              <CheckboxField
                key={m}
                label={m}
                value={targets.includes(m)}
                onChange={(on) =>
                  set("lora.targetModules")(on ? [...targets, m] : targets.filter((t) => t !== m))
                }
              />
            );
          })}
          {errorFor("lora.targetModules") && <span className="error">{errorFor("lora.targetModules")}</span>}
        </fieldset>
        <div className="row">
          <CheckboxField label="rsLoRA" {...bind("lora.useRslora")} />
          <CheckboxField label="DoRA" {...bind("lora.useDora")} />
        </div>
      </section>

      <section className="panel" aria-labelledby="sec-training">
        <h2 id="sec-training" className="panel-title">
          Training
        </h2>
        <div className="form-grid">
          <NumberField label="Epochs" {...bind("training.epochs")} />
          <NumberField label="Max steps" {...bind("training.maxSteps")} hint="-1: train for the epochs" />
          <NumberField label="Per-device batch size" {...bind("training.perDeviceBatchSize")} />
          <NumberField label="Gradient accumulation" {...bind("training.gradientAccumulationSteps")} />
          <NumberField label="Learning rate" {...bind("training.learningRate")} />
          <SelectField
            label="Scheduler"
            {...bind("training.scheduler")}
            options={["linear", "cosine", "constant", "constant_with_warmup"]}
          />
          <NumberField label="Warmup ratio" {...bind("training.warmupRatio")} />
          <NumberField label="Max grad norm" {...bind("training.maxGradNorm")} />
          <NumberField label="Weight decay" {...bind("training.weightDecay")} />
          <SelectField
            label="Optimizer"
            {...bind("training.optimizer")}
            options={["adamw_torch", "paged_adamw_32bit", "paged_adamw_8bit", "adamw_8bit"]}
          />
          <SelectField label="Precision" {...bind("training.precision")} options={["fp32", "fp16", "bf16"]} />
          <NumberField label="Max sequence length" {...bind("training.maxSeqLength")} />
          <SelectField
            label="Eval strategy"
            {...bind("training.evalStrategy")}
            options={["no", "steps", "epoch"]}
          />
          <NumberField label="Eval steps" {...bind("training.evalSteps")} />
          <SelectField
            label="Save strategy"
            {...bind("training.saveStrategy")}
            options={["no", "steps", "epoch"]}
          />
          <NumberField label="Save steps" {...bind("training.saveSteps")} />
          <NumberField label="Logging steps" {...bind("training.loggingSteps")} />
          <NumberField label="Seed" {...bind("training.seed")} />
        </div>
        <div className="row">
          <CheckboxField label="Completion-only loss" {...bind("training.completionOnlyLoss")} />
          <CheckboxField label="Packing" {...bind("training.packing")} />
          <CheckboxField label="Gradient checkpointing" {...bind("training.gradientCheckpointing")} />
          <CheckboxField label="Merge and unload at the end" {...bind("merge.mergeAndUnload")} />
        </div>
        <div className="form-grid">
          <NumberField label="GPUs" {...bind("resources.gpus")} />
          <SelectField
            label="Multi-GPU strategy"
            {...bind("resources.strategy")}
            options={["auto", "ddp", "fsdp"]}
          />
        </div>
      </section>

      <section className="panel" aria-labelledby="sec-sampling">
        <h2 id="sec-sampling" className="panel-title">
          Sampling
        </h2>
        <TextAreaField
          label="Sample prompts (one per line)"
          value={((getAtPath(config, "sampling.prompts") as string[] | undefined) ?? []).join("\n")}
          onChange={(v) => set("sampling.prompts")(v.split("\n").filter((l) => l.trim() !== ""))}
          error={errorFor("sampling.prompts")}
        />
        <div className="form-grid">
          <NumberField label="Sample every N steps" {...bind("sampling.everySteps")} />
          <NumberField label="Temperature" {...bind("sampling.temperature")} />
          <NumberField label="Top-p" {...bind("sampling.topP")} />
          <NumberField label="Max new tokens" {...bind("sampling.maxNewTokens")} />
        </div>
      </section>

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
