import type { CanonicalExample } from "@distillery/core";
import { type AdditionProblem, problemQuestion } from "./addition-problems.ts";
import { formatAnswer, writeTeacherTrace } from "./teacher-trace.ts";

/**
 * The teacher's row: the R1-style assistant turn split the way every imported dataset is
 * (reasoning without its <think> tags, then the answer), so it renders through the same
 * Phi-3 template path as the seed recipe's Magpie traces.
 */
export function toTraceExample(p: AdditionProblem): CanonicalExample {
  const { reasoning, answer } = writeTeacherTrace(p);
  return { messages: [{ role: "user", content: problemQuestion(p) }], reasoning, answer, reference: String(p.a + p.b), think: "ok" };
}

/** The base student's row: the same question answered directly, no reasoning. */
export function toDirectExample(p: AdditionProblem): CanonicalExample {
  const sum = p.a + p.b;
  return { messages: [{ role: "user", content: problemQuestion(p) }], reasoning: null, answer: formatAnswer(sum), reference: String(sum), think: "missing" };
}

/** The instruction under which the base student learns column addition as plain text. */
export function workedQuestion(p: AdditionProblem): string {
  return `Add ${p.a} and ${p.b} column by column.`;
}

/**
 * A base-training row: asked explicitly, the student writes the column work as its answer —
 * no <think> block, no reasoning before answering a plain question. Like a pretrained model
 * that can do long addition on paper, it has the skill; distillation teaches it to reason with
 * it, in <think>, before answering "What is a + b?".
 */
export function toWorkedExample(p: AdditionProblem): CanonicalExample {
  const { reasoning, answer } = writeTeacherTrace(p);
  return { messages: [{ role: "user", content: workedQuestion(p) }], reasoning: null, answer: `${reasoning}\n${answer}`, reference: String(p.a + p.b), think: "missing" };
}
