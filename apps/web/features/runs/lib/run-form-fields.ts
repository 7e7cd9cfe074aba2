/**
 * The run form's fields, each described once: its path in ZRunConfig, its label and hint. The
 * control (number, select with the enum's values, switch, text, list) and its bounds come from
 * the schema (schema-field.ts); ConfigField renders any of them. Fields that need data from
 * elsewhere (models, dataset versions) or act on several paths are the form's own.
 */
export interface FieldSpec {
  path: string;
  label: string;
  hint?: string;
  /** labels for enum values */
  optionLabels?: Record<string, string>;
  /** how a list of strings is typed: one per line, or comma-separated */
  listStyle?: "lines" | "comma";
}

export interface FormSection {
  id: string;
  title: string;
  fields: FieldSpec[];
  /** boolean fields, shown as a row of switches */
  switches?: FieldSpec[];
}

export const QUANTIZATION_LABELS = { none: "none", nf4: "nf4 (4-bit QLoRA)", int8: "int8 (8-bit)" };

export const MODEL_FIELDS: FieldSpec[] = [
  {
    path: "specialTokens",
    label: "Special tokens",
    hint: "added to the tokenizer; their embedding rows train",
    listStyle: "comma",
  },
  { path: "padToken", label: "Pad token", hint: '"eos" sets pad = eos' },
];

export const DATA_FIELDS: FieldSpec[] = [
  { path: "data.template", label: "Chat template", hint: '"model": the model\'s own Jinja template' },
  {
    path: "data.evalFraction",
    label: "Eval fraction",
    hint: "held out for eval loss when no eval set is picked",
  },
  { path: "data.systemPrompt", label: "System prompt" },
];

export const LORA_SECTION: FormSection = {
  id: "lora",
  title: "LoRA",
  fields: [
    { path: "lora.method", label: "Method", hint: "full: every weight trains (tiny models)" },
    { path: "lora.r", label: "Rank (r)" },
    { path: "lora.alpha", label: "Alpha" },
    { path: "lora.dropout", label: "Dropout" },
    { path: "lora.bias", label: "Bias" },
    { path: "lora.quantization", label: "Quantization", optionLabels: QUANTIZATION_LABELS },
  ],
  switches: [
    { path: "lora.useRslora", label: "rsLoRA" },
    { path: "lora.useDora", label: "DoRA" },
  ],
};

export const TRAINING_SECTION: FormSection = {
  id: "training",
  title: "Training",
  fields: [
    { path: "training.epochs", label: "Epochs" },
    { path: "training.maxSteps", label: "Max steps", hint: "-1: train for the epochs" },
    { path: "training.perDeviceBatchSize", label: "Per-device batch size" },
    { path: "training.gradientAccumulationSteps", label: "Gradient accumulation" },
    { path: "training.learningRate", label: "Learning rate" },
    { path: "training.scheduler", label: "Scheduler" },
    { path: "training.warmupRatio", label: "Warmup ratio" },
    { path: "training.maxGradNorm", label: "Max grad norm" },
    { path: "training.weightDecay", label: "Weight decay" },
    { path: "training.optimizer", label: "Optimizer" },
    { path: "training.precision", label: "Precision" },
    { path: "training.maxSeqLength", label: "Max sequence length", hint: "prompt + completion, in tokens" },
    { path: "training.evalStrategy", label: "Eval strategy" },
    { path: "training.evalSteps", label: "Eval steps" },
    { path: "training.saveStrategy", label: "Save strategy" },
    { path: "training.saveSteps", label: "Save steps" },
    { path: "training.loggingSteps", label: "Logging steps" },
    { path: "training.seed", label: "Seed" },
    { path: "resources.gpus", label: "GPUs" },
    { path: "resources.strategy", label: "Multi-GPU strategy" },
  ],
  switches: [
    { path: "training.completionOnlyLoss", label: "Completion-only loss" },
    { path: "training.packing", label: "Packing" },
    { path: "training.gradientCheckpointing", label: "Gradient checkpointing" },
    { path: "merge.mergeAndUnload", label: "Merge and unload at the end" },
  ],
};

export const SAMPLING_SECTION: FormSection = {
  id: "sampling",
  title: "Sampling",
  fields: [
    { path: "sampling.prompts", label: "Sample prompts (one per line)", listStyle: "lines" },
    { path: "sampling.everySteps", label: "Sample every N steps" },
    { path: "sampling.temperature", label: "Temperature" },
    { path: "sampling.topP", label: "Top-p" },
    { path: "sampling.maxNewTokens", label: "Max new tokens" },
  ],
};

export const EVALUATION_FIELDS: FieldSpec[] = [
  { path: "evaluation.k", label: "Samples per prompt", hint: "k > 1 adds cons@k (majority vote)" },
  { path: "evaluation.maxExamples", label: "Problems evaluated", hint: "the first N rows of the eval set" },
  { path: "evaluation.maxNewTokens", label: "Max new tokens (evaluation)" },
  { path: "evaluation.temperature", label: "Evaluation temperature", hint: "0: greedy" },
];
export const EVALUATION_SWITCHES: FieldSpec[] = [
  { path: "evaluation.before", label: "Evaluate the base model before training" },
  { path: "evaluation.after", label: "Evaluate the trained model after" },
];

/** The metrics an evaluation reports, in words (the run page's table uses the same names). */
export const EVAL_METRIC_LABELS: Record<string, string> = {
  accuracy: "Accuracy (first sample right)",
  pass_at_1: "pass@1 (expected share right per sample)",
  cons_at_k: "cons@k (majority vote right)",
  format_compliance: "Format compliance (one <think> block, then an answer)",
  answered: "Answered (gave a final answer)",
  mean_reasoning_chars: "Mean reasoning length (characters)",
  mean_reasoning_tokens: "Mean reasoning length (tokens)",
  n: "Problems scored",
  k: "Samples per problem",
};
