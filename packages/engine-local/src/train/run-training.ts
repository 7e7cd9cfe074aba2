import { join } from "node:path";
import {
  createEventStamper,
  type EngineEvent,
  type EngineEventBody,
  type EngineJob,
  ZEngineJob,
} from "@distillery/core";
import { EngineError } from "../engine-error.ts";
import { generateTokens } from "../generate/generate-tokens.ts";
import { describeMatmulKernel } from "../kernels/matmul.ts";
import { packWeights } from "../kernels/matmul-wasm.ts";
import { getMatmulThreads, setMatmulThreads } from "../kernels/parallel.ts";
import { Rng, shuffleInPlace } from "../kernels/rng.ts";
import { packableWeights } from "../model/llama-model.ts";
import { clipGradNorm, createAdamWState, stepAdamW } from "./adamw.ts";
import {
  checkpointsDir,
  listCheckpointSteps,
  loadCheckpoint,
  saveCheckpoint,
  type TrainerState,
} from "./checkpoint.ts";
import { type DistillContext, loadDistillTeacher, sampleOnPolicyBatch } from "./distillation.ts";
import { createEndpointDistillStep, loadEndpointDistill } from "./distillation-endpoint.ts";
import { computeLrFactor, computeWarmupSteps } from "./lr-schedule.ts";
import { prepareModelForRun } from "./prepare-model.ts";
import { storedTeacherTopK } from "./teacher-logits.ts";
import {
  type Batch,
  collateBatch,
  DataOrder,
  packExamples,
  readExamplesJsonl,
  type TokenizedExample,
  tokenizeExamples,
} from "./training-data.ts";
import { accumulateGradients, type DistillStep, evaluateLoss } from "./training-step.ts";
import { writeRunArtifacts } from "./write-artifacts.ts";

export interface RunTrainingOptions {
  emit: (event: EngineEvent) => void;
  signal?: AbortSignal;
  /** matmul threads, 1 (default) or 2; see kernels/parallel.ts for why 1 is the default */
  threads?: number;
}

export interface RunTrainingResult {
  step: number;
  metrics: Record<string, number>;
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

function splitEval(
  examples: TokenizedExample[],
  fraction: number,
  seed: number,
): { train: TokenizedExample[]; evalSet: TokenizedExample[] } {
  if (fraction <= 0 || examples.length < 2) return { train: examples, evalSet: [] };
  const order = shuffleInPlace(
    Array.from({ length: examples.length }, (_, i) => i),
    Rng.fromSeed(seed, 77),
  );
  const nEval = Math.max(1, Math.floor(examples.length * fraction));
  const evalIdx = new Set(order.slice(0, nEval));
  return {
    train: examples.filter((_, i) => !evalIdx.has(i)),
    evalSet: examples.filter((_, i) => evalIdx.has(i)),
  };
}

/**
 * Trains per an EngineJob and reports through `emit` (events already stamped with runId and
 * seq, continuing from job.startSeq). Resumes from the latest checkpoint in outDir. On bad input
 * it emits an error event with code and field, then rejects with the EngineError.
 */
export async function runTraining(jobInput: unknown, opts: RunTrainingOptions): Promise<RunTrainingResult> {
  const parsedJob = ZEngineJob.safeParse(jobInput);
  const runId = (jobInput as { runId?: string } | null)?.runId || "unknown";
  const stamper = createEventStamper(
    parsedJob.success ? parsedJob.data.runId : runId,
    parsedJob.success ? parsedJob.data.startSeq : 0,
  );
  const emit = (body: EngineEventBody) => opts.emit(stamper.stamp(body));
  if (opts.threads !== undefined) setMatmulThreads(opts.threads);
  try {
    if (!parsedJob.success) {
      const issue = parsedJob.error.issues[0];
      const path = issue?.path ?? [];
      const field = path[0] === "config" ? path.slice(1).join(".") : path.join(".");
      throw new EngineError("config_invalid", `job: ${path.join(".") || "(root)"}: ${issue?.message}`, {
        field,
      });
    }
    return await trainJob(parsedJob.data, emit, opts.signal);
  } catch (e) {
    const err = e instanceof EngineError ? e : new EngineError("internal", (e as Error).message || String(e));
    emit({
      type: "error",
      message: err.message,
      code: err.code,
      ...(err.field ? { field: err.field } : {}),
      ...(err.hint ? { hint: err.hint } : {}),
    });
    throw err;
  }
}

async function trainJob(
  job: EngineJob,
  emit: (e: EngineEventBody) => void,
  signal?: AbortSignal,
): Promise<RunTrainingResult> {
  const t = job.config.training;
  // the run's first log line: which kernels run its products (native / WebAssembly) and on how many threads
  emit({
    type: "log",
    level: "info",
    message: `engine: ${describeMatmulKernel()}, ${getMatmulThreads()} thread(s)`,
  });
  emit({ type: "status", phase: "loading", message: `loading ${job.paths.baseModel}` });
  const prepared = prepareModelForRun(job.paths.baseModel, job.config);
  const { model, tokenizer, trainable } = prepared;
  for (const message of describeCpuSubstitutions(t)) emit({ type: "log", level: "warn", message });
  if (prepared.addedTokens.length)
    emit({ type: "log", level: "info", message: `added special tokens ${prepared.addedTokens.join(" ")}` });
  const maxLen = Math.min(t.maxSeqLength, model.config.maxPositions - 1);
  if (maxLen < t.maxSeqLength) {
    emit({
      type: "log",
      level: "warn",
      message: `maxSeqLength ${t.maxSeqLength} exceeds the model's ${model.config.maxPositions} positions; truncating to ${maxLen}`,
    });
  }
  let trainSet = tokenizeExamples(
    readExamplesJsonl(job.paths.trainData, "data.datasetVersionId"),
    tokenizer,
    maxLen,
  );
  let evalSet: TokenizedExample[] = [];
  if (job.paths.evalData)
    evalSet = tokenizeExamples(
      readExamplesJsonl(job.paths.evalData, "data.datasetVersionId"),
      tokenizer,
      maxLen,
    );
  else if (t.evalStrategy !== "no")
    ({ train: trainSet, evalSet } = splitEval(trainSet, job.config.data.evalFraction, t.seed));
  if (trainSet.length === 0)
    throw new EngineError("data_invalid", "no training example has two or more tokens", {
      field: "data.datasetVersionId",
    });

  const padId = tokenizer.stopTokenIds[0] ?? 0;
  const completionOnly = t.completionOnlyLoss;
  // a row of a batch: one example, or with packing several whole examples sharing a sequence
  const trainRows: (TokenizedExample | TokenizedExample[])[] = t.packing
    ? packExamples(trainSet, maxLen)
    : trainSet;
  const evalRows: (TokenizedExample | TokenizedExample[])[] = t.packing
    ? packExamples(evalSet, maxLen)
    : evalSet;
  if (t.packing)
    emit({
      type: "log",
      level: "info",
      message: `packing: ${trainSet.length} examples into ${trainRows.length} sequences of up to ${maxLen} tokens`,
    });
  const order = new DataOrder(trainRows.length, t.perDeviceBatchSize, t.seed);
  const ga = t.gradientAccumulationSteps;
  const stepsPerEpoch = Math.max(1, Math.ceil(order.batchesPerEpoch / ga));
  const totalSteps = t.maxSteps > 0 ? t.maxSteps : Math.max(1, Math.ceil(t.epochs * stepsPerEpoch));
  const warmup = computeWarmupSteps(t.warmupRatio, totalSteps);
  const evalBatches: Batch[] = [];
  for (let i = 0; i < evalRows.length; i += t.perDeviceBatchSize) {
    evalBatches.push(collateBatch(evalRows.slice(i, i + t.perDeviceBatchSize), padId, completionOnly));
  }

  // logit / on-policy: the frozen teacher beside the student (its packed weights are released
  // after the student's, in the finally below, as the arena is a stack)
  const d0 = job.config.distillation;
  // an endpoint teacher (distillation.teacherEndpoint) is asked per batch; stored logits win
  const endpointDistill =
    d0.teacherEndpoint && !d0.teacherLogits
      ? loadEndpointDistill(d0, job.paths.teacherEndpoint, {
          onRetry: (message) => emit({ type: "log", level: "warn", message }),
        })
      : null;
  const distillCtx =
    endpointDistill?.ctx ??
    loadDistillTeacher(
      job.paths.teacherModel,
      job.paths.baseModel,
      prepared,
      job.config.distillation,
      t.seed,
      {
        dir: job.paths.teacherLogits,
        dataPath: job.paths.trainData,
        maxSeqLength: maxLen,
        completionOnly,
      },
    );
  if (distillCtx?.stored) {
    const m = distillCtx.stored.manifest;
    emit({
      type: "log",
      level: "info",
      message: `logit distillation from stored teacher logits ${job.paths.teacherLogits} (teacher ${m.teacher}, top-${m.k} of ${m.positions} positions, the teacher is not run): beta ${distillCtx.beta}, temperature ${distillCtx.temperature}, alpha ${distillCtx.alpha}, top-${distillCtx.topK}`,
    });
  }
  if (endpointDistill) {
    const { endpoint, k } = endpointDistill.teacher;
    emit({
      type: "log",
      level: "info",
      message: `${distillCtx?.mode} distillation from the teacher endpoint "${endpoint.name}" (model ${endpoint.model}, top-${k} prompt_logprobs per batch): beta ${distillCtx?.beta}, temperature ${distillCtx?.temperature}, alpha ${distillCtx?.alpha}${distillCtx?.mode === "on-policy" ? `, lmbda ${distillCtx.lmbda}` : ""}`,
    });
  }
  if (distillCtx?.teacher) {
    const params = distillCtx.teacher.layers.length;
    emit({
      type: "log",
      level: "info",
      message: `${distillCtx.mode} distillation from ${job.paths.teacherModel} (${params} layers, d ${distillCtx.teacher.config.hiddenSize})${distillCtx.mode === "feature" ? "" : `: beta ${distillCtx.beta}, temperature ${distillCtx.temperature}, alpha ${distillCtx.alpha}`}${distillCtx.topK ? `, top-${distillCtx.topK}` : ""}${distillCtx.mode === "on-policy" ? `, lmbda ${distillCtx.lmbda}` : ""}`,
    });
    const fd = distillCtx.feature;
    if (fd)
      emit({
        type: "log",
        level: "info",
        message: `feature distillation: hidden states ${fd.pairs.map((p) => `${p.student}→${p.teacher}`).join(", ")}, weight ${fd.weight}${fd.params.length ? `, learned projection ${fd.studentWidth}→${fd.teacherWidth} (${fd.params.reduce((n, p) => n + p.data.length, 0)} parameters, dropped at save)` : ""}`,
      });
  }
  // the feature projections train with the student's optimizer and are saved in checkpoints (for
  // resume), never in the artifacts; gradient clipping covers the student alone, as the HF
  // Trainer clips the model's parameters
  const projections = distillCtx?.feature?.params ?? [];
  const optimized = [...trainable, ...projections];
  const endpointStep =
    endpointDistill && distillCtx
      ? createEndpointDistillStep(distillCtx, endpointDistill.teacher, model, {
          stopTokenIds: tokenizer.stopTokenIds,
          padId,
          completionOnly,
          maxLen,
          seed: t.seed,
        })
      : undefined;
  const distillStep =
    distillCtx && !endpointStep
      ? createDistillStep(distillCtx, model, tokenizer.stopTokenIds, padId, completionOnly, maxLen, t.seed)
      : undefined;
  const hasTeacherLogprob = distillCtx?.teacher != null || endpointStep !== undefined;

  const opt = createAdamWState(optimized);
  let state: TrainerState = {
    step: 0,
    totalSteps,
    epoch: 0,
    adamStep: 0,
    lossSum: 0,
    lossCount: 0,
    lastLoss: null,
    lastEvalLoss: null,
  };
  const saved = listCheckpointSteps(job.paths.outDir);
  if (saved.length) {
    const dir = join(checkpointsDir(job.paths.outDir), `checkpoint-${saved[saved.length - 1]}`);
    state = { ...loadCheckpoint(dir, optimized, opt), totalSteps };
    emit({ type: "log", level: "info", message: `resumed from ${dir} at step ${state.step}` });
  }

  const sampleAt = (step: number) => {
    job.samplePrompts.forEach((p, i) => {
      const ids = generateTokens(model, tokenizer.encode(p.rendered, false), {
        maxNewTokens: job.config.sampling.maxNewTokens,
        temperature: job.config.sampling.temperature,
        topP: job.config.sampling.topP,
        stopTokenIds: tokenizer.stopTokenIds,
        seed: t.seed + step,
      });
      emit({ type: "sample", step, promptIndex: i, prompt: p.prompt, output: tokenizer.decode(ids, false) });
    });
  };
  const runEval = (step: number) => {
    if (!evalBatches.length) return;
    emit({ type: "status", phase: "evaluating", step, totalSteps });
    state.lastEvalLoss = evaluateLoss(model, evalBatches);
    emit({ type: "metric", step, values: { eval_loss: state.lastEvalLoss, epoch: step / stepsPerEpoch } });
  };

  emit({
    type: "status",
    phase: "training",
    step: state.step,
    totalSteps,
    epoch: state.step / stepsPerEpoch,
  });
  const distillSums = { kd: 0, ce: 0, agree: 0, teacherLp: 0, feature: 0, n: 0, sampled: 0, sampledN: 0 };
  const hasDivergence = distillCtx?.mode !== "feature";
  /** the window's mean distillation series, then reset (as loss is) */
  const distillMetrics = (): Record<string, number> => {
    if (!distillSums.n) return {};
    const n = distillSums.n;
    const out: Record<string, number> = { ce_loss: distillSums.ce / n };
    if (hasTeacherLogprob) out.teacher_logprob = distillSums.teacherLp / n;
    if (hasDivergence) {
      out.kd_loss = distillSums.kd / n;
      out.top1_agreement = distillSums.agree / n;
    }
    if (distillCtx?.feature) out.feature_loss = distillSums.feature / n;
    if (distillSums.sampledN) out.sampled_length = distillSums.sampled / distillSums.sampledN;
    Object.assign(distillSums, {
      kd: 0,
      ce: 0,
      agree: 0,
      teacherLp: 0,
      feature: 0,
      n: 0,
      sampled: 0,
      sampledN: 0,
    });
    return out;
  };
  let windowStart = performance.now();
  let windowTokens = 0;
  // the frozen base stays in wasm memory (as stored and transposed) for the whole loop, so no
  // product copies or transposes it; dropped before the artifacts (merge writes into weights)
  const unpack = packWeights(packableWeights(model, true), true);
  try {
    await trainLoop();
  } finally {
    unpack();
    distillCtx?.release();
  }
  async function trainLoop(): Promise<void> {
    while (state.step < totalSteps) {
      if (signal?.aborted) throw new EngineError("cancelled", "training was cancelled");
      const s = state.step;
      const microRows = Array.from({ length: ga }, (_, j) =>
        order.microBatch(s * ga + j).map((i) => trainRows[i] as TokenizedExample | TokenizedExample[]),
      );
      const batches = microRows.map((rows) => collateBatch(rows, padId, completionOnly));
      // an endpoint teacher answers before the (synchronous) step: its scores are fetched first
      const fromEndpoint = endpointStep ? await endpointStep(s, microRows, batches, signal) : undefined;
      const res = accumulateGradients(
        model,
        optimized,
        batches,
        t.seed,
        s,
        fromEndpoint ?? distillStep?.(s, microRows),
      );
      const gradNorm = clipGradNorm(trainable, t.maxGradNorm);
      if (!Number.isFinite(gradNorm)) {
        throw new EngineError("nan_loss", `gradient norm is ${gradNorm} at step ${s + 1}`, {
          field: "training.learningRate",
        });
      }
      const lr = t.learningRate * computeLrFactor(t.scheduler, s, totalSteps, warmup);
      stepAdamW(optimized, opt, {
        lr,
        beta1: t.adamBeta1,
        beta2: t.adamBeta2,
        eps: t.adamEpsilon,
        weightDecay: t.weightDecay,
      });
      state.step = s + 1;
      state.epoch = state.step / stepsPerEpoch;
      state.lossSum += res.loss;
      state.lossCount += 1;
      if (res.distill) {
        const d = res.distill;
        distillSums.kd += d.kdLoss;
        distillSums.ce += d.ceLoss;
        distillSums.agree += d.top1Agreement;
        distillSums.teacherLp += d.teacherLogprob ?? fromEndpoint?.teacherLogprob ?? 0;
        distillSums.feature += d.featureLoss ?? 0;
        distillSums.n += 1;
        if (d.sampledLength !== null) {
          distillSums.sampled += d.sampledLength;
          distillSums.sampledN += 1;
        }
      }
      windowTokens += res.tokens;
      const step = state.step;
      const isEpochEnd = step % stepsPerEpoch === 0 || step === totalSteps;
      if (step % t.loggingSteps === 0 || step === totalSteps || step === 1) {
        const seconds = (performance.now() - windowStart) / 1000;
        state.lastLoss = state.lossSum / state.lossCount;
        emit({
          type: "metric",
          step,
          values: {
            loss: state.lastLoss,
            learning_rate: lr,
            grad_norm: gradNorm,
            tokens_per_second: windowTokens / Math.max(seconds, 1e-9),
            epoch: state.epoch,
            ...distillMetrics(),
          },
        });
        state.lossSum = 0;
        state.lossCount = 0;
        windowTokens = 0;
        windowStart = performance.now();
      }
      if (
        (t.evalStrategy === "steps" && step % t.evalSteps === 0) ||
        (t.evalStrategy === "epoch" && isEpochEnd)
      )
        runEval(step);
      if (job.samplePrompts.length && step % job.config.sampling.everySteps === 0) sampleAt(step);
      const save =
        (t.saveStrategy === "steps" && step % t.saveSteps === 0) ||
        (t.saveStrategy === "epoch" && isEpochEnd) ||
        step === totalSteps;
      if (save) {
        emit({ type: "status", phase: "saving", step, totalSteps });
        const path = saveCheckpoint(job.paths.outDir, optimized, opt, state);
        emit({ type: "checkpoint", step, path, epoch: state.epoch });
      }
      await yieldToEventLoop();
    }
  }
  if (job.samplePrompts.length && totalSteps % job.config.sampling.everySteps !== 0) sampleAt(totalSteps);
  emit({ type: "status", phase: "saving", step: state.step, totalSteps });
  writeRunArtifacts(job, prepared, emit);
  const metrics: Record<string, number> = {};
  if (state.lastLoss !== null) metrics.loss = state.lastLoss;
  if (state.lastEvalLoss !== null) metrics.eval_loss = state.lastEvalLoss;
  emit({ type: "done", step: state.step, metrics });
  return { step: state.step, metrics };
}

/**
 * The training options that are GPU techniques: the CPU engine runs them its own way and says
 * so at the start of the run instead of silently ignoring them.
 */
export function describeCpuSubstitutions(t: EngineJob["config"]["training"]): string[] {
  const out: string[] = [];
  if (t.precision !== "fp32")
    out.push(
      `training.precision ${t.precision}: the CPU engine computes in float32 (same math, more memory)`,
    );
  if (t.optimizer !== "adamw_torch")
    out.push(
      `training.optimizer ${t.optimizer}: the CPU engine uses 32-bit AdamW (adamw_torch); paged and 8-bit states are GPU memory savers`,
    );
  if (t.gradientCheckpointing)
    out.push(
      "training.gradientCheckpointing: not used by the CPU engine (a micro-batch's activations fit in memory at the sizes it trains)",
    );
  return out;
}

/**
 * The per-step distillation input: the teacher context, and for on-policy a coin per micro-batch
 * (probability lmbda, GKD's λ) that replaces the batch by the student's own samples of its prompts.
 */
function createDistillStep(
  ctx: DistillContext,
  model: Parameters<typeof sampleOnPolicyBatch>[0],
  stopTokenIds: number[],
  padId: number,
  completionOnly: boolean,
  maxLen: number,
  seed: number,
): (step: number, microRows: (TokenizedExample | TokenizedExample[])[][]) => DistillStep {
  const stored = ctx.stored;
  return (step, microRows) => ({
    ctx,
    storedTeacher: stored
      ? (i, batch) =>
          storedTeacherTopK(
            stored,
            microRows[i] as (TokenizedExample | TokenizedExample[])[],
            batch.seq,
            batch.targets,
            ctx.topK ?? stored.manifest.k,
          )
      : undefined,
    onPolicyBatch:
      ctx.mode !== "on-policy"
        ? undefined
        : (i, batch) => {
            const onPolicy = sampleOnPolicyBatch(model, promptsOf(batch), ctx, {
              seed,
              step,
              microBatch: i,
              stopTokenIds,
              maxLen,
              padId,
              completionOnly,
            });
            return onPolicy && { batch: onPolicy.batch, sampledLength: onPolicy.sampledLength };
          },
  });
}

/** the prompts of a (not packed) batch: each row's ids up to its first counted target */
function promptsOf(batch: Batch): TokenizedExample[] {
  const out: TokenizedExample[] = [];
  for (let b = 0; b < batch.batch; b++) {
    const o = b * batch.seq;
    let first = -1;
    for (let t = 0; t < batch.seq; t++)
      if ((batch.targets[o + t] as number) >= 0) {
        first = t;
        break;
      }
    if (first < 0) continue;
    // target at position t is ids[t + 1]: the prompt is ids[0 .. first]
    out.push({ ids: Array.from(batch.ids.subarray(o, o + first + 1)), completionStart: first + 1 });
  }
  return out;
}
