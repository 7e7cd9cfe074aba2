import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { BUILTIN_TEMPLATES, type EngineEvent, type RunConfig, renderChat } from "@distillery/core";
import { resolveThreads, runTraining } from "@distillery/engine-local";
import { type EvaluateModelResult, evaluateModel } from "@distillery/evals";
import { buildDemoPlan, type DemoPlan, type DemoPlanOptions } from "./build-demo-plan.ts";
import { renderVersionForEngine } from "./render-version.ts";

export interface DemoPipelineOptions extends DemoPlanOptions {
  /** override the runs' maxSteps (tests train a few steps) */
  baseSteps?: number;
  distillSteps?: number;
  onEvent?: (run: "base" | "distill", event: EngineEvent) => void;
  onPhase?: (phase: string, elapsedS: number) => void;
}

export interface DemoPipelineResult {
  base_accuracy: number;
  distilled_accuracy: number;
  heldout: number;
  wall_s: number;
  plan: DemoPlan;
  base: EvaluateModelResult;
  distilled: EvaluateModelResult;
  dirs: { baseModel: string; adapter: string };
}

function withSteps(config: RunConfig, steps: number | undefined): RunConfig {
  return steps ? { ...config, training: { ...config.training, maxSteps: steps } } : config;
}

/**
 * The demo's ML pipeline in one process, without services: plan → base run (full, direct
 * answers) → evaluate the base → distillation run (LoRA, traces) → evaluate the student.
 * The same engine calls and configs the worker runs as child processes.
 */
export async function runDemoPipeline(
  dir: string,
  options: DemoPipelineOptions = {},
): Promise<DemoPipelineResult> {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const plan = await buildDemoPlan(dir, options);
  options.onPhase?.("planned", elapsed());
  const runsDir = join(dir, "runs");
  mkdirSync(runsDir, { recursive: true });
  const spec = BUILTIN_TEMPLATES.phi3;

  const train = async (run: "base" | "distill", config: RunConfig, baseModel: string, rowsPath: string) => {
    const trainData = join(runsDir, `${run}.jsonl`);
    await renderVersionForEngine(rowsPath, trainData);
    const outDir = join(runsDir, run);
    const samplePrompts = config.sampling.prompts.map((prompt) => ({
      prompt,
      rendered: renderChat(spec, [{ role: "user", content: prompt }], { addGenerationPrompt: true }),
    }));
    await runTraining(
      { runId: `demo-${run}`, config, paths: { baseModel, trainData, outDir }, samplePrompts },
      { emit: (e) => options.onEvent?.(run, e), threads: resolveThreads(undefined) },
    );
    options.onPhase?.(`${run} trained`, elapsed());
    return outDir;
  };
  const evaluate = async (modelDir: string, adapterDir: string | undefined, config: RunConfig) => {
    const r = await evaluateModel({
      modelDir,
      adapterDir,
      tasks: plan.heldoutTasks,
      maxNewTokens: config.evaluation?.maxNewTokens ?? 128,
      temperature: config.evaluation?.temperature ?? 0,
    });
    options.onPhase?.(`evaluated ${adapterDir ? "distilled" : "base"}`, elapsed());
    return r;
  };

  const baseOut = await train(
    "base",
    withSteps(plan.baseRunConfig, options.baseSteps),
    plan.studentInit.dir,
    plan.datasets.direct.location,
  );
  const baseModel = join(baseOut, "model");
  const base = await evaluate(baseModel, undefined, plan.baseRunConfig);
  const distillOut = await train(
    "distill",
    withSteps(plan.distillRunConfig, options.distillSteps),
    baseModel,
    plan.datasets.traces.location,
  );
  const adapter = join(distillOut, "adapter");
  const distilled = await evaluate(baseModel, adapter, plan.distillRunConfig);
  return {
    base_accuracy: base.metrics.accuracy,
    distilled_accuracy: distilled.metrics.accuracy,
    heldout: plan.heldoutTasks.length,
    wall_s: elapsed(),
    plan,
    base,
    distilled,
    dirs: { baseModel, adapter },
  };
}
