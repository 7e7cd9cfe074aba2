export { bootstrapMeanInterval, type Interval, passAtK, wilsonInterval } from "./eval-stats.ts";
export {
  computeEvaluationMetrics,
  type EvaluationMetrics,
  type ExampleResult,
  type SampleScore,
} from "./evaluation-metrics.ts";
export { type EvalProblem, type EvalSet, loadEvalSet, ZEvalSet } from "./load-eval-set.ts";
export {
  type EvalSettings,
  type EvaluationOutcome,
  type RunEvaluationOptions,
  runEvaluation,
  ZEvalSettings,
} from "./run-evaluation.ts";
export {
  createServedModelSampler,
  createTeacherSampler,
  inlineReasoning,
  type Sample,
  type Sampler,
  TEACHER_MODEL_PREFIX,
  teacherIdOf,
} from "./samplers.ts";
