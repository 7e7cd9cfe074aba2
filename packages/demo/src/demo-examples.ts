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
  return {
    messages: [{ role: "user", content: problemQuestion(p) }],
    reasoning,
    answer,
    reference: String(p.a + p.b),
    think: "ok",
  };
}

/** The base student's row: the same question answered directly, no reasoning. */
export function toDirectExample(p: AdditionProblem): CanonicalExample {
  const sum = p.a + p.b;
  return {
    messages: [{ role: "user", content: problemQuestion(p) }],
    reasoning: null,
    answer: formatAnswer(sum),
    reference: String(sum),
    think: "missing",
  };
}

/**
 * The instruction under which the base student learns column addition as plain text. It ends
 * exactly like the plain question, so the operands sit at the same distance from the answer.
 */
export function workedQuestion(p: AdditionProblem): string {
  return `Show your work. ${problemQuestion(p)}`;
}

/**
 * Opens a worked answer: two one-token characters standing where a trace has `<think>` and its
 * newline, so the column lines sit at the same distances from the operands as in a trace and
 * what the base learned to copy transfers to the traces unchanged.
 */
export const WORKED_PREFIX = ":\n";

/**
 * A base-training row: asked explicitly, the student writes the column work as its answer —
 * no <think> block, no reasoning before answering a plain question. Like a pretrained model
 * that can do long addition on paper, it has the skill; distillation teaches it to reason with
 * it, in <think>, before answering "What is a + b?".
 */
export function toWorkedExample(p: AdditionProblem): CanonicalExample {
  const { reasoning, answer } = writeTeacherTrace(p);
  return {
    messages: [{ role: "user", content: workedQuestion(p) }],
    reasoning: null,
    answer: `${WORKED_PREFIX}${reasoning}\n${answer}`,
    reference: String(p.a + p.b),
    think: "missing",
  };
}

/**
 * A base-training row from the addition table: one column sum with its carry, in the same
 * notation as the teacher's lines. A trace has only a couple of column sums among ~60 tokens of
 * copying, so without these rows the student learns the layout long before the table.
 */
export function toColumnFactExample(x: number, y: number, carry: number): CanonicalExample {
  const s = x + y + carry;
  return {
    messages: [{ role: "user", content: `Add ${x}, ${y} and ${carry}.` }],
    reasoning: null,
    answer: `${x}+${y}+${carry}=${String(s).padStart(2, "0")}`,
    reference: String(s),
    think: "missing",
  };
}
