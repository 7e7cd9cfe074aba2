import type { EvalTask } from "./eval-task.ts";
import type { LoadedStudent } from "./load-student.ts";

export interface AnswerOptions {
  maxNewTokens: number;
  temperature: number;
  topP?: number;
  /** samples per task */
  k: number;
  seed: number;
}

export interface TaskAnswers {
  /** index into the task list */
  index: number;
  outputs: string[];
  tokens: number[];
}

/**
 * Answers tasks[index] for each index given. Each sample's seed depends only on (seed, task
 * index, sample), so the outputs are the same however the tasks are split across threads.
 */
export function answerTasks(
  student: LoadedStudent,
  tasks: readonly EvalTask[],
  indices: readonly number[],
  options: AnswerOptions,
  onAnswered?: (a: TaskAnswers) => void,
): TaskAnswers[] {
  const out: TaskAnswers[] = [];
  for (const index of indices) {
    const task = tasks[index];
    if (!task) continue;
    const a: TaskAnswers = { index, outputs: [], tokens: [] };
    for (let j = 0; j < options.k; j++) {
      const g = student.generate(task.prompt, {
        maxNewTokens: options.maxNewTokens,
        temperature: options.temperature,
        topP: options.topP,
        seed: options.seed + index * 1009 + j,
      });
      a.outputs.push(g.text);
      a.tokens.push(g.tokens);
    }
    out.push(a);
    onAnswered?.(a);
  }
  return out;
}
