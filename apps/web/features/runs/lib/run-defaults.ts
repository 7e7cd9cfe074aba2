import { type RunConfigInput, ZRunConfig } from "@distillery/core";

/**
 * Where a new run's form starts when it comes from a dataset version ("Use in a new run") or a
 * model ("Train"): settings for that data and that model, not the demo's. Pure, so it is tested.
 */
export interface ModelChoice {
  id: string;
  name: string;
  engines: string[];
  contextLength: number | null;
  hasChatTemplate: boolean;
  parameters: number | null;
}

export interface VersionChoice {
  id: string;
  name: string;
  version: number;
  rows: number;
  template: string | null;
  tokenStats: { total?: { p99?: number; max: number } } | null;
}

/** The demo's own names: a user's run should not start from them unless nothing else exists. */
export const isDemoName = (name: string) => name.startsWith("distillery/") || name.startsWith("demo-");

/** The model a run on this data should start from: the newest one a worker can train, not the demo's. */
export function pickModel(models: ModelChoice[], preferredId?: string): ModelChoice | null {
  const preferred = models.find((m) => m.id === preferredId);
  if (preferred) return preferred;
  const trainable = models.filter((m) => m.engines.length > 0);
  return trainable.find((m) => !isDemoName(m.name)) ?? trainable[0] ?? models[0] ?? null;
}

/** A power-of-two-ish length that keeps 99% of rows whole, within the model's context. */
export function suggestMaxSeqLength(version: VersionChoice | null, model: ModelChoice | null): number {
  const context = model?.contextLength ?? 131072;
  const p99 = version?.tokenStats?.total?.p99 ?? version?.tokenStats?.total?.max;
  const wanted = p99 ? Math.max(64, Math.ceil(p99 / 64) * 64) : 1024;
  return Math.max(8, Math.min(wanted, context, 8192));
}

/** Templates the form can pick; a model's own template when it ships one. */
const TEMPLATES = ["phi3", "chatml", "llama3", "deepseek-r1", "model"];

export function defaultsFor(input: {
  version: VersionChoice | null;
  model: ModelChoice | null;
  samplePrompts: string[];
}): Record<string, unknown> {
  const { version, model } = input;
  const engine = model && !model.engines.includes("local") && model.engines.includes("hf") ? "hf" : "local";
  const isSmall = (model?.parameters ?? 0) < 50e6;
  const template =
    version?.template && TEMPLATES.includes(version.template)
      ? version.template
      : model?.hasChatTemplate
        ? "model"
        : "chatml";
  const config: RunConfigInput = {
    name: [version ? `${version.name} v${version.version}` : null, model?.name].filter(Boolean).join(" · "),
    engine,
    model: { id: model?.id ?? "" },
    data: { datasetVersionId: version?.id ?? "", template: template as "chatml", evalFraction: 0.1 },
    specialTokens: ["<think>", "</think>"],
    padToken: "eos",
    lora: {
      method: "lora",
      r: 16,
      alpha: 32,
      dropout: 0.05,
      targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"],
    },
    training: {
      epochs: 3,
      maxSteps: -1,
      perDeviceBatchSize: engine === "local" ? 4 : 2,
      gradientAccumulationSteps: engine === "local" ? 2 : 4,
      // tiny random-init students need a large rate; pretrained ones the usual LoRA rate
      learningRate: isSmall ? 1e-3 : 2e-4,
      scheduler: "cosine",
      warmupRatio: 0.03,
      maxGradNorm: 1,
      optimizer: "adamw_torch",
      precision: engine === "local" ? "fp32" : "bf16",
      maxSeqLength: suggestMaxSeqLength(version, model),
      completionOnlyLoss: true,
      evalStrategy: "epoch",
      saveStrategy: "epoch",
      loggingSteps: 10,
      seed: 42,
    },
    sampling: {
      prompts: input.samplePrompts.slice(0, 3),
      everySteps: 50,
      temperature: 0.7,
      topP: 0.95,
      maxNewTokens: 256,
    },
    merge: { mergeAndUnload: true },
    resources: { gpus: engine === "hf" ? 1 : 0, strategy: "auto" },
  };
  // defaults filled in, the dataset version kept as is (possibly empty, for the person to pick)
  const parsed = ZRunConfig.parse({
    ...config,
    model: { id: config.model.id || "x" },
    data: { ...config.data, datasetVersionId: "x" },
  });
  return {
    ...parsed,
    model: { id: config.model.id },
    data: { ...parsed.data, datasetVersionId: version?.id ?? "" },
  };
}
