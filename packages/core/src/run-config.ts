import { z } from "zod";
import {
  DEFAULT_DISTILLATION,
  distillationConfigIssues,
  ZDistillationConfig,
} from "./distillation-config.ts";

/**
 * The run config: everything that decides what a run trains. One schema for the browser form,
 * the API, the queue payload, the CPU engine and the Python trainer (via its JSON Schema).
 * Field names follow transformers/peft where one exists there, in camelCase.
 */

export const LORA_TARGET_MODULES = [
  "q_proj",
  "k_proj",
  "v_proj",
  "o_proj",
  "gate_proj",
  "up_proj",
  "down_proj",
] as const;
export const CHAT_TEMPLATE_IDS = ["phi3", "chatml", "llama3", "deepseek-r1", "model"] as const;
/** QLoRA: "nf4" = 4-bit NormalFloat with double quantization and bf16 compute; "int8" = 8-bit. */
export const LORA_QUANTIZATIONS = ["none", "nf4", "int8"] as const;

export const ZLoraConfig = z.object({
  /** "lora" trains adapters on a frozen base; "full" trains every weight (tiny models). */
  method: z.enum(["lora", "full"]).default("lora"),
  r: z.number().int().min(1, "r must be at least 1").max(1024).default(8),
  alpha: z.number().positive("alpha must be positive").default(16),
  dropout: z.number().min(0).max(0.9, "dropout must be below 0.9").default(0.05),
  targetModules: z
    .array(z.string().min(1))
    .min(1, "pick at least one target module")
    .default(["q_proj", "k_proj", "v_proj", "o_proj"]),
  bias: z.enum(["none", "all", "lora_only"]).default("none"),
  useRslora: z.boolean().default(false),
  useDora: z.boolean().default(false),
  /** the frozen base loaded quantized via bitsandbytes (QLoRA); the hf engine only */
  quantization: z.enum(LORA_QUANTIZATIONS).default("none"),
});

export const ZTrainingArgs = z
  .object({
    epochs: z.number().positive("epochs must be positive").max(1000).default(3),
    /** overrides epochs when > 0, as in transformers */
    maxSteps: z.number().int().min(-1).default(-1),
    perDeviceBatchSize: z.number().int().min(1).max(4096).default(2),
    gradientAccumulationSteps: z.number().int().min(1).max(4096).default(4),
    learningRate: z.number().positive("learning rate must be positive").max(1).default(2e-5),
    scheduler: z.enum(["linear", "cosine", "constant", "constant_with_warmup"]).default("cosine"),
    warmupRatio: z.number().min(0).max(1).default(0.03),
    maxGradNorm: z.number().min(0).default(0.3),
    weightDecay: z.number().min(0).max(1).default(0),
    adamBeta1: z.number().min(0).lt(1).default(0.9),
    adamBeta2: z.number().min(0).lt(1).default(0.999),
    adamEpsilon: z.number().positive().default(1e-8),
    optimizer: z
      .enum(["adamw_torch", "paged_adamw_32bit", "paged_adamw_8bit", "adamw_8bit"])
      .default("adamw_torch"),
    precision: z.enum(["fp32", "fp16", "bf16"]).default("fp32"),
    maxSeqLength: z.number().int().min(8).max(131072).default(1024),
    completionOnlyLoss: z.boolean().default(true),
    packing: z.boolean().default(false),
    gradientCheckpointing: z.boolean().default(false),
    evalStrategy: z.enum(["no", "steps", "epoch"]).default("epoch"),
    evalSteps: z.number().int().min(1).default(50),
    saveStrategy: z.enum(["no", "steps", "epoch"]).default("epoch"),
    saveSteps: z.number().int().min(1).default(50),
    loggingSteps: z.number().int().min(1).default(50),
    seed: z.number().int().min(0).default(42),
  })
  .superRefine((t, ctx) => {
    if (t.maxSteps === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["maxSteps"],
        message: "maxSteps must be -1 (use epochs) or ≥ 1",
      });
    }
  });

export const ZSamplingConfig = z.object({
  /** fixed user prompts generated from during training */
  prompts: z.array(z.string().min(1)).max(16).default([]),
  everySteps: z.number().int().min(1).default(100),
  temperature: z.number().min(0).max(2).default(0.7),
  topP: z.number().gt(0).max(1).default(0.95),
  maxNewTokens: z.number().int().min(1).max(8192).default(256),
});

export const ZDataConfig = z.object({
  /** the immutable dataset version the run trains on */
  datasetVersionId: z.string().min(1, "pick a dataset version"),
  template: z.enum(CHAT_TEMPLATE_IDS).default("phi3"),
  systemPrompt: z.string().optional(),
  /** fraction held out (seeded) for eval loss when no eval version is given */
  evalFraction: z.number().min(0).max(0.5).default(0.1),
  /** a separate version (e.g. the test side of a split) for eval loss */
  evalDatasetVersionId: z.string().min(1).optional(),
});

/**
 * Before-vs-after evaluation: the base student and the trained one answer the same held-out
 * problems; their final answers are scored against each row's reference answer.
 */
export const ZEvaluationConfig = z.object({
  /** version whose rows carry reference answers (CanonicalExample.reference or answer) */
  datasetVersionId: z.string().min(1, "pick the held-out version to evaluate on"),
  maxExamples: z.number().int().min(1).max(100_000).default(200),
  maxNewTokens: z.number().int().min(1).max(32_768).default(256),
  temperature: z.number().min(0).max(2).default(0),
  /** samples per problem for cons@k (1 = pass@1 only) */
  k: z.number().int().min(1).max(64).default(1),
  before: z.boolean().default(true),
  after: z.boolean().default(true),
});

/**
 * A Hub repository id, owner/name: letters, digits, "-", "_", "." (no "--" or ".." anywhere;
 * letters or digits at both ends of each part; the name at most 96 characters), as the Hub
 * accepts them. ASCII classes, not `\w`, so Python's `re` (the exported JSON Schema's
 * `pattern`) matches exactly what JavaScript does.
 */
export const HUB_REPO_ID =
  /^(?!.*(?:--|\.\.))[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\/[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;

/**
 * Pushing the run's outputs to the Hugging Face Hub at the end of a run (the hf engine). The
 * token is never part of the config (configs are stored and shown): the trainer reads HF_TOKEN
 * from its environment. "merged" means the trained model: the merged adapter, or the whole
 * model of a full fine-tune; it goes to the repo's root, the adapter under `adapter/`.
 */
export const ZExportConfig = z.object({
  hubRepo: z
    .string()
    .regex(
      HUB_REPO_ID,
      "the Hub repo must read owner/name (letters, digits, -, _, .), e.g. my-org/phi3-r1-distilled",
    )
    .optional(),
  /** applies when the push creates the repo; an existing repo keeps its visibility */
  private: z.boolean().default(true),
  pushAdapter: z.boolean().default(true),
  pushMerged: z.boolean().default(true),
});

export const ZModelRef = z.object({
  /** the studio's Model id, or a Hugging Face repo id */
  id: z.string().min(1, "pick a base model"),
  revision: z.string().optional(),
});

export interface ConfigIssue {
  path: (string | number)[];
  message: string;
}

/**
 * The rules across fields that the field schemas cannot say: what each engine can honour, and
 * what a Hub push needs. ZRunConfig refines with them, so the form shows them next to their
 * fields, the API answers 400 naming them, and the CPU engine (which parses ZEngineJob) refuses
 * them with config_invalid. The JSON Schema cannot carry refinements: the Python trainer checks
 * the ones that concern it again (checks.check_quantization, hub_push.check_hub_export).
 */
export function engineConfigIssues(c: {
  engine: "local" | "hf";
  lora: Pick<LoraConfig, "method" | "quantization">;
  merge: { mergeAndUnload: boolean };
  export: ExportConfig;
}): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const isLora = c.lora.method === "lora";
  if (c.lora.quantization !== "none" && !isLora)
    issues.push({
      path: ["lora", "quantization"],
      message:
        "quantization trains LoRA adapters on a quantized base: pick method lora, or quantization none",
    });
  else if (c.lora.quantization !== "none" && c.engine === "local")
    issues.push({
      path: ["lora", "quantization"],
      message: "the local (CPU) engine trains an unquantized base: QLoRA needs the hf engine",
    });
  if (c.export.hubRepo === undefined) return issues;
  if (c.engine === "local") {
    issues.push({
      path: ["export", "hubRepo"],
      message:
        "the local (CPU) engine cannot push to the Hub: use the hf engine, or leave the Hub repo empty",
    });
    return issues;
  }
  if (isLora && c.export.pushMerged && !c.merge.mergeAndUnload)
    issues.push({
      path: ["export", "pushMerged"],
      message:
        "there is no merged model to push: turn on merge and unload, or turn off pushing the merged model",
    });
  else if (!c.export.pushMerged && (!isLora || !c.export.pushAdapter))
    issues.push({
      path: ["export", "hubRepo"],
      message: isLora
        ? "nothing to push: turn on pushing the adapter or the merged model"
        : "nothing to push: a full fine-tune has no adapter; turn on pushing the merged model",
    });
  return issues;
}

export const ZRunConfig = z
  .object({
    name: z.string().max(200).optional(),
    engine: z.enum(["local", "hf"]).default("local"),
    model: ZModelRef,
    data: ZDataConfig,
    /** added to the tokenizer as special tokens; embeddings grow and the new rows train */
    specialTokens: z.array(z.string().min(1)).default(["<think>", "</think>"]),
    /** "eos" sets pad = eos, as the seed recipe does */
    padToken: z.string().default("eos"),
    distillation: ZDistillationConfig.default(DEFAULT_DISTILLATION),
    lora: ZLoraConfig.default(ZLoraConfig.parse({})),
    training: ZTrainingArgs.default(ZTrainingArgs.parse({})),
    sampling: ZSamplingConfig.default(ZSamplingConfig.parse({})),
    merge: z.object({ mergeAndUnload: z.boolean().default(true) }).default({ mergeAndUnload: true }),
    evaluation: ZEvaluationConfig.optional(),
    /** register the trained model (merged adapter, or the full model) as a base model under this name */
    output: z.object({ registerModelAs: z.string().min(1).max(200).optional() }).default({}),
    export: ZExportConfig.default(ZExportConfig.parse({})),
    resources: z
      .object({
        gpus: z.number().int().min(0).max(64).default(0),
        /** "ddp" or "fsdp" when gpus > 1 */
        strategy: z.enum(["auto", "ddp", "fsdp"]).default("auto"),
      })
      .default({ gpus: 0, strategy: "auto" }),
  })
  .superRefine((c, ctx) => {
    for (const issue of engineConfigIssues(c)) ctx.addIssue({ code: "custom", ...issue });
    for (const issue of distillationConfigIssues(c.distillation, c.training))
      ctx.addIssue({ code: "custom", ...issue });
  });

export type RunConfig = z.infer<typeof ZRunConfig>;
export type ExportConfig = z.infer<typeof ZExportConfig>;
export type RunConfigInput = z.input<typeof ZRunConfig>;
export type LoraConfig = z.infer<typeof ZLoraConfig>;
export type TrainingArgs = z.infer<typeof ZTrainingArgs>;

/** One training example as engines read it: a fully rendered prompt and its completion. */
export const ZEngineExample = z.object({
  /** chat-template-rendered text up to and including the generation prompt */
  prompt: z.string(),
  /** the assistant turn: `<think>\n…\n</think>\n\n` + answer + end-of-turn token */
  completion: z.string(),
});
export type EngineExample = z.infer<typeof ZEngineExample>;

/**
 * What a worker hands an engine: the run config plus resolved local paths. Written as JSON to
 * `<outDir>/job.json` and passed as `--config`.
 */
export const ZEngineJob = z.object({
  runId: z.string().min(1),
  config: ZRunConfig,
  paths: z.object({
    /** HF model directory of the base model */
    baseModel: z.string().min(1),
    /**
     * what `from_pretrained` loads for that base, written as adapter_config.json's
     * base_model_name_or_path: the Hub id the model came from, else a path (default: baseModel)
     */
    baseModelNameOrPath: z.string().min(1).optional(),
    /** HF model directory of the teacher (distillation modes logit and on-policy) */
    teacherModel: z.string().min(1).optional(),
    /**
     * a teacher endpoint (distillation.teacherEndpoint): where and what to ask; its API key is
     * never here (it reaches the engine in DISTILLERY_TEACHER_API_KEY or a 0600 file, keyFile)
     */
    teacherEndpoint: z
      .object({
        name: z.string().min(1),
        baseUrl: z.string().min(1),
        model: z.string().min(1),
        /** a file (mode 0600) holding the key; absent: DISTILLERY_TEACHER_API_KEY, else none */
        keyFile: z.string().min(1).optional(),
        requestsPerMinute: z.number().int().positive().optional(),
      })
      .optional(),
    /** folder of a stored "teacher logits" artifact (logit mode with distillation.teacherLogits) */
    teacherLogits: z.string().min(1).optional(),
    /** JSONL of EngineExample */
    trainData: z.string().min(1),
    evalData: z.string().optional(),
    /** JSONL of {prompt (rendered), reference} for before/after evaluation */
    evalTasks: z.string().optional(),
    /** run directory: checkpoints, artifacts; resumes from its latest checkpoint */
    outDir: z.string().min(1),
  }),
  /** fixed sample prompts, rendered with the run's template up to the generation prompt */
  samplePrompts: z.array(z.object({ prompt: z.string(), rendered: z.string() })).default([]),
  /** first seq to emit (continues a resumed run's stream) */
  startSeq: z.number().int().nonnegative().default(0),
});
export type EngineJob = z.infer<typeof ZEngineJob>;
export type EngineJobInput = z.input<typeof ZEngineJob>;
export type EvaluationConfig = z.infer<typeof ZEvaluationConfig>;
