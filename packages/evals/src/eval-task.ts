import { readFileSync } from "node:fs";
import { z } from "zod";

/** One held-out problem: the prompt rendered with the run's template, and its reference answer. */
export const ZEvalTask = z.object({
  prompt: z.string().min(1, "prompt must be a non-empty rendered prompt"),
  reference: z.string().min(1, "reference must be a non-empty answer"),
});
export type EvalTask = z.infer<typeof ZEvalTask>;

/** Reads the JSONL the worker writes (paths.evalTasks); errors name the file and line. */
export function readEvalTasks(path: string): EvalTask[] {
  const tasks: EvalTask[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (!line.trim()) return;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (e) {
        throw new Error(`${path} line ${i + 1}: not JSON (${(e as Error).message})`);
      }
      const parsed = ZEvalTask.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new Error(`${path} line ${i + 1}: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
      }
      tasks.push(parsed.data);
    });
  if (tasks.length === 0) throw new Error(`${path} holds no tasks`);
  return tasks;
}
