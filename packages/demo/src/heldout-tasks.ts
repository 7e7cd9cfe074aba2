import { BUILTIN_TEMPLATES, toEngineExample } from "@distillery/core";
import type { EvalTask } from "@distillery/evals";
import type { AdditionProblem } from "./addition-problems.ts";
import { toDirectExample } from "./demo-examples.ts";

/**
 * Eval tasks for held-out problems, as the worker writes them from the held-out version: the
 * question rendered with Phi-3's template up to the generation prompt, and the bare sum.
 * Base and distilled students get the same prompt; only what they write after it differs.
 */
export function buildHeldoutTasks(problems: readonly AdditionProblem[]): EvalTask[] {
  const spec = BUILTIN_TEMPLATES.phi3;
  return problems.map((p) => ({
    prompt: toEngineExample(toDirectExample(p), spec).prompt,
    reference: String(p.a + p.b),
  }));
}
