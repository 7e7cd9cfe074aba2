import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type EngineEvent, type RunConfig, ZRunConfig } from "@distillery/core";
import { resolveThreads, runTraining } from "@distillery/engine-local";
import { evaluateModel } from "@distillery/evals";
import { buildDemoPlan, type DemoPlanOptions } from "./build-demo-plan.ts";
import { renderVersionForEngine } from "./render-version.ts";

/** on_policy: every batch sampled by the student (λ = 1); on_policy_mixed: half of them (λ = 0.5, GKD) */
export type KdMode = "sft" | "logit" | "on_policy" | "on_policy_mixed";

export interface KdComparisonOptions extends DemoPlanOptions {
  /** optimizer steps of each of the three student runs (the same for all) */
  steps?: number;
  /** held-out accuracy is measured every this many steps */
  evalEvery?: number;
  baseSteps?: number;
  teacherSteps?: number;
  /** accuracy that counts as reached (0.9) */
  target?: number;
  modes?: KdMode[];
  /** the on-policy runs' divergence: 1 = reverse KL (GKD's on-policy default), 0 = forward KL */
  onPolicyBeta?: number;
  /** distillation temperature of the logit and on-policy runs (both distributions softened, loss × T²); 1 by default */
  kdTemperature?: number;
  /** logit and on-policy runs: mix the traces' cross-entropy in (loss = α·CE + (1 − α)·KD); 0 by default */
  kdAlpha?: number;
  /** the student runs' learning rate (the demo's 5e-3 by default), the same for every mode */
  learningRate?: number;
  onPhase?: (phase: string, elapsedS: number) => void;
  onEvent?: (run: string, event: EngineEvent) => void;
}

export interface KdCurve {
  /** held-out accuracy after each evaluated step */
  points: { step: number; accuracy: number }[];
  steps_to_90: number | null;
  final_accuracy: number;
  /** the last logged training metrics (kd_loss, top1_agreement, …) */
  last_metrics: Record<string, number>;
  wall_s: number;
  /** the run's config at its last chunk (all steps): what `--studio` records */
  config: RunConfig;
}

export interface KdComparisonResult {
  teacher_accuracy: number;
  base_accuracy: number;
  curves: Partial<Record<KdMode, KdCurve>>;
  wall_s: number;
}

/**
 * The distillation evidence on the demo's task, in one process: train the base student (direct
 * answers), train a teacher that reasons (a full fine-tune of the base on the traces, with the
 * <think> tokens), then from the same base student run LoRA three ways for the same number of
 * optimizer steps — SFT on the traces, logit KD (forward KL to the teacher on the traces),
 * on-policy (the student's samples, reverse KL) — and measure held-out accuracy every
 * `evalEvery` steps. Constant learning rate without warmup, so a run trained in chunks (stop,
 * evaluate, resume from the checkpoint) is exactly the run trained in one go.
 */
export async function runKdComparison(
  dir: string,
  options: KdComparisonOptions = {},
): Promise<KdComparisonResult> {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const steps = options.steps ?? 400;
  const evalEvery = options.evalEvery ?? 50;
  const target = options.target ?? 0.9;
  const plan = await buildDemoPlan(dir, options);
  const runsDir = join(dir, "runs");
  mkdirSync(runsDir, { recursive: true });
  const threads = resolveThreads(undefined);
  const rendered = new Map<string, string>();
  const render = async (rowsPath: string) => {
    const cached = rendered.get(rowsPath);
    if (cached) return cached;
    const out = join(runsDir, `data-${rendered.size}.jsonl`);
    await renderVersionForEngine(rowsPath, out);
    rendered.set(rowsPath, out);
    return out;
  };
  const lastMetrics = new Map<string, Record<string, number>>();
  const train = async (
    name: string,
    config: RunConfig,
    baseModel: string,
    rowsPath: string,
    teacher?: string,
  ) => {
    const outDir = join(runsDir, name);
    await runTraining(
      {
        runId: `kd-${name}`,
        config,
        paths: {
          baseModel,
          trainData: await render(rowsPath),
          outDir,
          ...(teacher ? { teacherModel: teacher } : {}),
        },
        samplePrompts: [],
      },
      {
        threads,
        emit: (e) => {
          if (e.type === "metric" && e.values.loss !== undefined)
            lastMetrics.set(name, { ...lastMetrics.get(name), ...e.values });
          options.onEvent?.(name, e);
        },
      },
    );
    return outDir;
  };
  const accuracy = async (modelDir: string, adapterDir?: string) =>
    (
      await evaluateModel({
        modelDir,
        adapterDir,
        tasks: plan.heldoutTasks,
        maxNewTokens: plan.distillRunConfig.evaluation?.maxNewTokens ?? 96,
        temperature: 0,
      })
    ).metrics.accuracy;

  const baseConfig = options.baseSteps
    ? { ...plan.baseRunConfig, training: { ...plan.baseRunConfig.training, maxSteps: options.baseSteps } }
    : plan.baseRunConfig;
  const baseModel = join(
    await train("base", baseConfig, plan.studentInit.dir, plan.datasets.direct.location),
    "model",
  );
  const baseAccuracy = await accuracy(baseModel);
  options.onPhase?.(`base trained: accuracy ${baseAccuracy}`, elapsed());

  // the teacher: every weight of the base trained on the traces (its <think> tokens included)
  const teacherConfig = ZRunConfig.parse({
    ...plan.distillRunConfig,
    name: "demo teacher",
    lora: { ...plan.distillRunConfig.lora, method: "full" },
    training: {
      ...plan.distillRunConfig.training,
      maxSteps: options.teacherSteps ?? 1200,
      evalStrategy: "no",
      saveStrategy: "no",
    },
    evaluation: undefined,
  });
  const teacherModel = join(
    await train("teacher", teacherConfig, baseModel, plan.datasets.traces.location),
    "model",
  );
  const teacherAccuracy = await accuracy(teacherModel);
  options.onPhase?.(`teacher trained: accuracy ${teacherAccuracy}`, elapsed());

  const studentConfig = (mode: KdMode, maxSteps: number): RunConfig =>
    ZRunConfig.parse({
      ...plan.distillRunConfig,
      name: `demo student (${mode})`,
      training: {
        ...plan.distillRunConfig.training,
        ...(options.learningRate === undefined ? {} : { learningRate: options.learningRate }),
        maxSteps,
        scheduler: "constant",
        warmupRatio: 0,
        evalStrategy: "no",
        saveStrategy: "steps",
        saveSteps: evalEvery,
        loggingSteps: evalEvery,
      },
      evaluation: undefined,
      distillation:
        mode === "sft"
          ? { mode: "sft" }
          : mode === "logit"
            ? {
                mode: "logit",
                teacher: { modelId: "demo-teacher" },
                beta: 0,
                // softened as in Hinton et al.: the demo teacher is nearly one-hot at T 1, where
                // logit KD followed SFT (measured: T 1 0.34, T 2 0.72, T 4 0.98 at 350 steps)
                temperature: options.kdTemperature ?? 4,
                alpha: options.kdAlpha ?? 0,
              }
            : {
                mode: "on-policy",
                teacher: { modelId: "demo-teacher" },
                beta: options.onPolicyBeta ?? 1,
                temperature: options.kdTemperature ?? 1,
                maxNewTokens: 96,
                lmbda: mode === "on_policy_mixed" ? 0.5 : 1,
              },
    });

  const curves: Partial<Record<KdMode, KdCurve>> = {};
  for (const mode of options.modes ?? (["sft", "logit", "on_policy"] as KdMode[])) {
    const runStarted = performance.now();
    const points: { step: number; accuracy: number }[] = [];
    for (let s = evalEvery; s <= steps; s += evalEvery) {
      const out = await train(
        `student-${mode}`,
        studentConfig(mode, s),
        baseModel,
        plan.datasets.traces.location,
        mode === "sft" ? undefined : teacherModel,
      );
      const acc = await accuracy(baseModel, join(out, "adapter"));
      points.push({ step: s, accuracy: acc });
      options.onPhase?.(`${mode} step ${s}: accuracy ${acc}`, elapsed());
    }
    const reached = points.find((p) => p.accuracy >= target);
    curves[mode] = {
      points,
      steps_to_90: reached ? reached.step : null,
      final_accuracy: points.at(-1)?.accuracy ?? 0,
      last_metrics: lastMetrics.get(`student-${mode}`) ?? {},
      wall_s: Math.round((performance.now() - runStarted) / 100) / 10,
      config: studentConfig(mode, steps),
    };
  }
  return { teacher_accuracy: teacherAccuracy, base_accuracy: baseAccuracy, curves, wall_s: elapsed() };
}
