import { type RunConfigInput, ZRunConfig } from "./run-config.ts";

/**
 * Run presets. The seed recipe reproduces DESIGN.md field for field: Phi-3-mini-4k-instruct,
 * Magpie R1 CoT traces in the Phi-3 format, <think>/</think> added, pad = eos, LoRA r8 α16
 * dropout 0.2 on q/k/v/o, bias none, 3 epochs, batch 2 × accumulation 4, lr 2e-5, cosine,
 * warmup 0.03, max grad norm 0.3, fp16, paged_adamw_32bit, eval and save each epoch, log every
 * 50 steps, 90/10 split, merge and unload, sample at temperature 0.7.
 */
export const SEED_RECIPE: RunConfigInput = {
  name: "Seed recipe — Phi-3-mini + R1 traces, LoRA r8 α16",
  engine: "hf",
  model: { id: "microsoft/Phi-3-mini-4k-instruct" },
  data: { datasetVersionId: "", template: "phi3", evalFraction: 0.1 },
  specialTokens: ["<think>", "</think>"],
  padToken: "eos",
  lora: {
    method: "lora",
    r: 8,
    alpha: 16,
    dropout: 0.2,
    targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"],
    bias: "none",
    useRslora: false,
    useDora: false,
  },
  training: {
    epochs: 3,
    maxSteps: -1,
    perDeviceBatchSize: 2,
    gradientAccumulationSteps: 4,
    learningRate: 2e-5,
    scheduler: "cosine",
    warmupRatio: 0.03,
    maxGradNorm: 0.3,
    weightDecay: 0,
    optimizer: "paged_adamw_32bit",
    precision: "fp16",
    maxSeqLength: 2048,
    completionOnlyLoss: true,
    evalStrategy: "epoch",
    saveStrategy: "epoch",
    loggingSteps: 50,
    seed: 42,
  },
  sampling: {
    prompts: ["If a train travels 60 km in 45 minutes, what is its average speed in km/h?"],
    everySteps: 200,
    temperature: 0.7,
    topP: 0.95,
    maxNewTokens: 512,
  },
  merge: { mergeAndUnload: true },
  resources: { gpus: 1, strategy: "auto" },
};

/** The built-in demo: a tiny local student learns to reason through arithmetic on a CPU. */
export const TINY_REASONING_DEMO: RunConfigInput = {
  name: "Tiny reasoning demo — arithmetic with <think>",
  engine: "local",
  model: { id: "distillery/tiny-arith-student" },
  data: { datasetVersionId: "", template: "phi3", evalFraction: 0.02 },
  specialTokens: ["<think>", "</think>"],
  padToken: "eos",
  // tuned in packages/demo (README.md there): 1.00 on 200 held-out 2-digit sums after ~40 s of CPU
  lora: {
    method: "lora",
    r: 16,
    alpha: 32,
    dropout: 0,
    targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    bias: "none",
  },
  training: {
    maxSteps: 800,
    perDeviceBatchSize: 8,
    gradientAccumulationSteps: 1,
    learningRate: 5e-3,
    scheduler: "cosine",
    warmupRatio: 0.05,
    maxGradNorm: 1,
    optimizer: "adamw_torch",
    precision: "fp32",
    maxSeqLength: 127,
    completionOnlyLoss: true,
    evalStrategy: "steps",
    evalSteps: 200,
    saveStrategy: "steps",
    saveSteps: 200,
    loggingSteps: 10,
    seed: 7,
  },
  sampling: { prompts: ["What is 47 + 85?"], everySteps: 200, temperature: 0, topP: 1, maxNewTokens: 96 },
  merge: { mergeAndUnload: true },
  resources: { gpus: 0, strategy: "auto" },
};

export const RUN_PRESETS = [
  { id: "seed-recipe", label: "Seed recipe — Phi-3-mini + R1 traces, LoRA r8 α16", config: SEED_RECIPE },
  { id: "tiny-reasoning-demo", label: "Tiny reasoning demo", config: TINY_REASONING_DEMO },
] as const;

/** A preset with a dataset version filled in, parsed (defaults applied). */
export function presetConfig(presetId: (typeof RUN_PRESETS)[number]["id"], datasetVersionId: string) {
  const preset = RUN_PRESETS.find((p) => p.id === presetId);
  if (!preset) throw new Error(`unknown preset ${presetId}`);
  return ZRunConfig.parse({ ...preset.config, data: { ...preset.config.data, datasetVersionId } });
}
