/**
 * @distillery/evals — server-only: a model (optionally + PEFT adapter) answers held-out tasks,
 * scored with @distillery/core's eval scoring. CLI: src/cli.ts (spawn resolveEvaluateCommand()).
 */
export { type AnswerOptions, answerTasks, type TaskAnswers } from "./answer-tasks.ts";
export { type EvalTask, readEvalTasks, ZEvalTask } from "./eval-task.ts";
export {
  type EvaluateMetrics,
  type EvaluateModelOptions,
  type EvaluateModelResult,
  evaluateModel,
  type TaskOutput,
} from "./evaluate-model.ts";
export { type GenerateOptions, type LoadedStudent, loadStudent } from "./load-student.ts";
export { resolveEvaluateCommand } from "./resolve-evaluate-command.ts";
