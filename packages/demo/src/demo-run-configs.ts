import { type RunConfig, TINY_REASONING_DEMO, ZRunConfig } from "@distillery/core";
import { DEMO_MODEL_IDS, DEMO_VERSION_IDS } from "./demo-settings.ts";

export interface DemoRunIds {
  /** model the run starts from */
  modelId: string;
  trainVersionId: string;
  heldoutVersionId: string;
}

const SAMPLE_PROMPTS = ["What is 47 + 85?", "What is 36 + 19?"];

/**
 * Run (a), the base student: the untrained tiny model learns to answer directly (no <think>
 * tokens, every weight trains). Short on purpose: it ends answering in the right format but
 * mostly wrong, which is the "before" the distillation run improves on.
 */
export function createBaseRunConfig(ids: Partial<DemoRunIds> = {}): RunConfig {
  return ZRunConfig.parse({
    name: "Tiny reasoning demo — base student (direct answers)",
    engine: "local",
    model: { id: ids.modelId ?? DEMO_MODEL_IDS.init },
    data: {
      datasetVersionId: ids.trainVersionId ?? DEMO_VERSION_IDS.direct,
      template: "phi3",
      evalFraction: 0.02,
    },
    specialTokens: [],
    padToken: "eos",
    lora: {
      method: "full",
      r: 8,
      alpha: 16,
      dropout: 0,
      targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"],
    },
    training: {
      // 1500, not 3000: the distillation still reaches 1.00 from it in half the base's time
      // (tune.ts, distilled accuracy on seeds 1/2/3: 1500 → 1.00/0.99/1.00; 1000 → 1.00/1.00/0.485,
      // too close to the edge; 3000 → 1.00/–/1.00); the base stays at 0.01 (0.09 after 3000)
      maxSteps: 1500,
      perDeviceBatchSize: 8,
      gradientAccumulationSteps: 1,
      learningRate: 5e-3,
      scheduler: "cosine",
      warmupRatio: 0.05,
      maxGradNorm: 1,
      weightDecay: 0,
      optimizer: "adamw_torch",
      precision: "fp32",
      maxSeqLength: 127,
      completionOnlyLoss: true,
      evalStrategy: "steps",
      evalSteps: 500,
      saveStrategy: "steps",
      saveSteps: 500,
      loggingSteps: 25,
      seed: 7,
    },
    sampling: { prompts: SAMPLE_PROMPTS, everySteps: 500, temperature: 0, topP: 1, maxNewTokens: 16 },
    merge: { mergeAndUnload: false },
    evaluation: {
      datasetVersionId: ids.heldoutVersionId ?? DEMO_VERSION_IDS.heldout,
      maxExamples: 200,
      maxNewTokens: 16,
      temperature: 0,
      k: 1,
      before: false,
      after: true,
    },
    resources: { gpus: 0, strategy: "auto" },
  });
}

/**
 * Run (b), the distillation: LoRA on the base student over the teacher's traces, with
 * <think>/</think> added as special tokens and loss on the completion only — the preset
 * "Tiny reasoning demo" with the demo's ids filled in. Evaluates the base before and the
 * student after on the same held-out problems.
 */
export function createDistillRunConfig(ids: Partial<DemoRunIds> = {}): RunConfig {
  return ZRunConfig.parse({
    ...TINY_REASONING_DEMO,
    model: { id: ids.modelId ?? DEMO_MODEL_IDS.base },
    data: { ...TINY_REASONING_DEMO.data, datasetVersionId: ids.trainVersionId ?? DEMO_VERSION_IDS.traces },
    sampling: { ...TINY_REASONING_DEMO.sampling, prompts: SAMPLE_PROMPTS },
    evaluation: {
      datasetVersionId: ids.heldoutVersionId ?? DEMO_VERSION_IDS.heldout,
      maxExamples: 200,
      maxNewTokens: 96,
      temperature: 0,
      k: 1,
      before: true,
      after: true,
    },
  });
}
