import {
  type DistillationConfig,
  describeTokenizerDifference,
  firstTokenizerDifference,
  resolveDistillationBeta,
} from "@distillery/core";
import { EngineError } from "../engine-error.ts";
import { createKvCache, forwardIncremental } from "../generate/kv-cache-forward.ts";
import { sampleToken } from "../generate/sample-token.ts";
import { loadModelDir } from "../io/hf-model-dir.ts";
import type { FArray } from "../kernels/float-array.ts";
import { packWeights, withPackedWeights } from "../kernels/matmul-wasm.ts";
import { Rng } from "../kernels/rng.ts";
import { runInArena } from "../kernels/wasm-memory.ts";
import { type LlamaModel, packableWeights } from "../model/llama-model.ts";
import { type EngineTokenizer, loadTokenizer } from "../tokenizer/engine-tokenizer.ts";
import { checkFeatureLayers, createFeatureDistill, type FeatureDistill } from "./feature-distillation.ts";
import { checkTeacherLogitsForRun, loadTeacherLogits, type TeacherLogits } from "./teacher-logits.ts";
import { type Batch, collateBatch, type TokenizedExample } from "./training-data.ts";

/** What a distillation step needs beside the student: the frozen teacher and the loss settings. */
export interface DistillContext {
  mode: "logit" | "on-policy" | "feature";
  /** the frozen teacher, or null when its stored top-k logits stand in for it */
  teacher: LlamaModel | null;
  /** logit mode from a stored "teacher logits" artifact (the teacher is not run) */
  stored: TeacherLogits | null;
  /** hidden-state matching (mode feature, or logit with feature settings), else null */
  feature: FeatureDistill | null;
  beta: number;
  temperature: number;
  alpha: number;
  topK: number | undefined;
  lmbda: number;
  maxNewTokens: number;
  samplingTemperature: number;
  /** frees the teacher's packed weights */
  release: () => void;
}

/**
 * Logit and on-policy distillation compare distributions token by token, so the teacher and the
 * student must give every id the same meaning. Throws naming both and the first difference.
 */
export function checkSameTokenizer(
  student: EngineTokenizer,
  teacher: EngineTokenizer,
  names: { student: string; teacher: string },
): void {
  const d = firstTokenizerDifference(student.json, teacher.json);
  if (!d) return;
  throw new EngineError("config_invalid", describeTokenizerDifference(d, names), {
    field: "distillation.teacher.modelId",
    hint: "logit and on-policy distillation need a teacher of the same tokenizer family (e.g. Qwen2.5-7B for a Qwen2.5-0.5B student); use sft on its traces otherwise",
  });
}

/** Loads the frozen teacher beside the student and checks they can be compared token by token. */
export function loadDistillTeacher(
  teacherDir: string | undefined,
  studentDir: string,
  student: { model: LlamaModel; tokenizer: EngineTokenizer },
  d: DistillationConfig,
  seed = 0,
  stored?: { dir: string | undefined; dataPath: string; maxSeqLength: number; completionOnly: boolean },
): DistillContext | null {
  if (d.mode === "sft") return null;
  if (d.teacherLogits) {
    if (!stored?.dir)
      throw new EngineError(
        "config_invalid",
        `teacher logits ${d.teacherLogits.artifactId} were not resolved to a folder for this run`,
        { field: "distillation.teacherLogits.artifactId" },
      );
    const tl = loadTeacherLogits(stored.dir);
    checkTeacherLogitsForRun(tl, {
      tokenizer: student.tokenizer,
      studentName: studentDir,
      dataPath: stored.dataPath,
      maxSeqLength: stored.maxSeqLength,
      completionOnly: stored.completionOnly,
      topK: d.topK,
    });
    return {
      mode: d.mode,
      teacher: null,
      stored: tl,
      feature: null,
      beta: resolveDistillationBeta(d),
      temperature: d.temperature,
      alpha: d.alpha,
      topK: d.topK ?? tl.manifest.k,
      lmbda: d.lmbda,
      maxNewTokens: d.maxNewTokens,
      samplingTemperature: d.samplingTemperature,
      release: () => {},
    };
  }
  if (!teacherDir)
    throw new EngineError("config_invalid", `${d.mode} distillation needs the teacher's model folder`, {
      field: "distillation.teacher.modelId",
    });
  const teacher = loadModelDir(teacherDir);
  checkSameTokenizer(student.tokenizer, loadTokenizer(teacherDir), {
    student: studentDir,
    teacher: teacherDir,
  });
  if (teacher.config.vocabSize !== student.model.config.vocabSize)
    throw new EngineError(
      "config_invalid",
      `the teacher's vocabulary has ${teacher.config.vocabSize} rows and the student's ${student.model.config.vocabSize} (after the run's special tokens): they must be equal to compare distributions`,
      { field: "distillation.teacher.modelId" },
    );
  const feature = d.feature ?? null;
  if (feature)
    checkFeatureLayers(feature, { student: student.model.layers.length, teacher: teacher.layers.length });
  // the teacher never changes: its weights stay in wasm memory for the whole run
  const release = packWeights(packableWeights(teacher, false), true);
  return {
    mode: d.mode,
    teacher,
    stored: null,
    feature: feature
      ? createFeatureDistill(
          feature,
          { student: student.model.config.hiddenSize, teacher: teacher.config.hiddenSize },
          seed,
        )
      : null,
    beta: resolveDistillationBeta(d),
    temperature: d.temperature,
    alpha: d.mode === "on-policy" && d.lmbda === 1 ? 0 : d.alpha,
    topK: d.topK,
    lmbda: d.lmbda,
    maxNewTokens: d.maxNewTokens,
    samplingTemperature: d.samplingTemperature,
    release,
  };
}

/**
 * The student samples a completion of `example`'s prompt (KV-cached, no gradients). The result is
 * a training example whose completion is the sample, its stop token included when it stopped, so
 * the teacher also judges where the student ends.
 */
export function sampleOnPolicyExample(
  model: LlamaModel,
  example: TokenizedExample,
  opts: { maxNewTokens: number; temperature: number; stopTokenIds: number[]; maxLen: number; rng: Rng },
): TokenizedExample {
  const prompt = example.ids.slice(0, example.completionStart);
  const budget = Math.max(0, Math.min(opts.maxNewTokens, opts.maxLen + 1 - prompt.length));
  const out: number[] = [];
  if (budget > 0) {
    const cache = createKvCache(model, prompt.length + budget);
    const stops = new Set(opts.stopTokenIds);
    let logits: FArray = runInArena(() => forwardIncremental(model, cache, prompt));
    for (let i = 0; i < budget; i++) {
      const next = sampleToken(logits, opts.temperature, 1, opts.rng);
      out.push(next);
      if (stops.has(next)) break;
      if (i + 1 < budget) logits = runInArena(() => forwardIncremental(model, cache, [next]));
    }
  }
  return { ids: [...prompt, ...out], completionStart: prompt.length };
}

/** the micro-batch's RNG for the on-policy coin and the sampling (reproducible under the seed) */
export function onPolicyRng(seed: number, step: number, microBatch: number): Rng {
  return Rng.fromSeed(seed, 2_000_000 + step * 1024 + microBatch);
}

/**
 * Micro-batch `microBatch` of `step` on-policy: GKD's coin (probability λ) and, when it falls so,
 * the student's samples of the prompts collated as the batch to train on; null keeps the data.
 */
export function sampleOnPolicyBatch(
  model: LlamaModel,
  prompts: TokenizedExample[],
  ctx: Pick<DistillContext, "lmbda" | "maxNewTokens" | "samplingTemperature">,
  opts: {
    seed: number;
    step: number;
    microBatch: number;
    stopTokenIds: number[];
    maxLen: number;
    padId: number;
    completionOnly: boolean;
  },
): { batch: Batch; sampled: TokenizedExample[]; sampledLength: number } | null {
  const rng = onPolicyRng(opts.seed, opts.step, opts.microBatch);
  if (rng.next() >= ctx.lmbda) return null;
  const sampled = runInArena(() =>
    withPackedWeights(packableWeights(model, false), () =>
      prompts.map((e) =>
        sampleOnPolicyExample(model, e, {
          maxNewTokens: ctx.maxNewTokens,
          temperature: ctx.samplingTemperature,
          stopTokenIds: opts.stopTokenIds,
          maxLen: opts.maxLen,
          rng,
        }),
      ),
    ),
  );
  // a sample of nothing (budget 0) scores nothing: it keeps its prompt only
  const lengths = sampled.map((e) => e.ids.length - e.completionStart);
  return {
    batch: collateBatch(sampled, opts.padId, opts.completionOnly),
    sampled,
    sampledLength: lengths.reduce((a, c) => a + c, 0) / Math.max(1, lengths.length),
  };
}

export { Rng };
