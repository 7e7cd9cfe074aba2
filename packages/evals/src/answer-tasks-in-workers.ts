import { Worker } from "node:worker_threads";
import type { AnswerOptions, TaskAnswers } from "./answer-tasks.ts";
import type { EvalTask } from "./eval-task.ts";

export interface AnswerInWorkersOptions {
  modelDir: string;
  adapterDir?: string;
  tasks: readonly EvalTask[];
  threads: number;
  answer: AnswerOptions;
  onAnswered?: (a: TaskAnswers) => void;
}

/**
 * Generation is single-threaded WebAssembly, so the tasks are dealt round-robin to `threads`
 * worker threads, each with its own copy of the (tiny) model. Results are the same as on one
 * thread: every sample's seed depends on its task index only.
 */
export async function answerTasksInWorkers(options: AnswerInWorkersOptions): Promise<TaskAnswers[]> {
  const shares = Array.from({ length: options.threads }, (_, t) =>
    options.tasks.map((_, i) => i).filter((i) => i % options.threads === t),
  ).filter((s) => s.length > 0);
  const results: TaskAnswers[] = [];
  const boot = new URL("./ts-worker-boot.mjs", import.meta.url);
  const entry = new URL("./answer-tasks-worker.ts", import.meta.url).href;
  const started: Worker[] = [];
  const workers = shares.map((indices) => {
    const init = {
      modelDir: options.modelDir,
      adapterDir: options.adapterDir,
      tasks: options.tasks,
      indices,
      answer: options.answer,
    };
    const worker = new Worker(boot, { workerData: { entry, init } });
    started.push(worker);
    return new Promise<void>((resolve, reject) => {
      let isDone = false;
      worker.on("message", (msg: { type: "answered"; answers: TaskAnswers } | { type: "done" }) => {
        if (msg.type === "answered") {
          results.push(msg.answers);
          options.onAnswered?.(msg.answers);
        } else isDone = true;
      });
      worker.on("error", reject);
      worker.on("exit", (code) => {
        if (isDone) resolve();
        else reject(new Error(`evaluation worker exited with code ${code} before finishing`));
      });
    });
  });
  try {
    await Promise.all(workers);
  } catch (e) {
    // one failed share fails the evaluation; the others would only burn CPU
    await Promise.all(started.map((w) => w.terminate()));
    throw e;
  }
  return results;
}
