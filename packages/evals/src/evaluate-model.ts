import { computeEvalMetrics, type EvalMetrics, type ResponseScore } from "@distillery/core";
import { type AnswerOptions, answerTasks, type TaskAnswers } from "./answer-tasks.ts";
import { answerTasksInWorkers } from "./answer-tasks-in-workers.ts";
import type { EvalTask } from "./eval-task.ts";
import { loadStudent } from "./load-student.ts";

export interface EvaluateModelOptions {
  modelDir: string;
  adapterDir?: string;
  tasks: readonly EvalTask[];
  maxNewTokens: number;
  /** 0 = greedy */
  temperature: number;
  topP?: number;
  /** samples per task for pass@1 / cons@k (default 1) */
  k?: number;
  seed?: number;
  /**
   * generation threads (default: 2 when tasks × k × maxNewTokens × the model's weights ≥ 1e11 and
   * two cores, else 1: a worker thread's start-up outweighs a small model's generation)
   */
  threads?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface TaskOutput {
  prompt: string;
  reference: string;
  /** k generations, untrusted model text */
  outputs: string[];
  scores: ResponseScore[];
}

export type EvaluateMetrics = EvalMetrics & {
  mean_output_tokens: number;
  /** generated tokens per second of wall time */
  tokens_per_second: number;
  wall_s: number;
};

export interface EvaluateModelResult {
  metrics: EvaluateMetrics;
  outputs: TaskOutput[];
}

// A worker thread boots tsx and imports the engine (and loads its own copy of the model): 1-2 s
// on an idle core, 6-12 s on a loaded 2-core machine. Below this much work (generations × new
// tokens × weights) a second thread costs more to start than it saves: the demo's 0.16 M-weight
// student answered 200 held-out tasks (96 new tokens) in 6-11 s on one thread vs 21-26 s on two,
// side by side at load 9-14; a 135 M student's 200 × 16 tokens (4e11) still splits.
const MIN_WORK_FOR_THREADS = 1e11;

/** Generates answers for every task (the model loaded once per thread) and scores them. */
export async function evaluateModel(options: EvaluateModelOptions): Promise<EvaluateModelResult> {
  const started = performance.now();
  const answer: AnswerOptions = {
    maxNewTokens: options.maxNewTokens,
    temperature: options.temperature,
    topP: options.topP,
    k: options.k ?? 1,
    seed: options.seed ?? 0,
  };
  const total = options.tasks.length;
  const { availableParallelism } = await import("node:os");
  // the main thread's student also counts reasoning tokens, so it is loaded either way
  const student = loadStudent(options.modelDir, options.adapterDir);
  const work = total * answer.k * answer.maxNewTokens * student.parameters;
  const threads =
    options.threads ?? (work >= MIN_WORK_FOR_THREADS ? Math.min(2, availableParallelism()) : 1);
  let done = 0;
  const onAnswered = () => options.onProgress?.(++done, total);
  let answers: TaskAnswers[];
  if (threads > 1) {
    answers = await answerTasksInWorkers({ ...options, tasks: options.tasks, threads, answer, onAnswered });
  } else {
    answers = answerTasks(
      student,
      options.tasks,
      options.tasks.map((_, i) => i),
      answer,
      onAnswered,
    );
  }
  answers.sort((x, y) => x.index - y.index);
  // answers come back by index into the same task list, so each finds its task
  const answered = answers.flatMap((a) => {
    const task = options.tasks[a.index];
    return task ? [{ ...a, task }] : [];
  });
  const { metrics, scores } = computeEvalMetrics(
    answered.map((a) => ({ reference: a.task.reference, responses: a.outputs })),
    { countTokens: student.countTokens },
  );
  const allTokens = answered.flatMap((a) => a.tokens);
  const wall = (performance.now() - started) / 1000;
  return {
    metrics: {
      ...metrics,
      mean_output_tokens: allTokens.length ? allTokens.reduce((s, x) => s + x, 0) / allTokens.length : 0,
      tokens_per_second: allTokens.reduce((s, x) => s + x, 0) / Math.max(wall, 1e-9),
      wall_s: wall,
    },
    outputs: answered.map((a, i) => ({
      prompt: a.task.prompt,
      reference: a.task.reference,
      outputs: a.outputs,
      scores: scores[i] ?? [],
    })),
  };
}
