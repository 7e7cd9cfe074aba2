import type { AdditionProblem } from "./addition-problems.ts";

/** What the teacher writes for a problem: reasoning (inside <think>) and the final answer. */
export interface TeacherTrace {
  reasoning: string;
  answer: string;
}

/** The final answer as the student writes it, reasoning or not: R1's `\boxed{…}`. */
export function formatAnswer(sum: number): string {
  return `\\boxed{${sum}}`;
}

/**
 * The programmatic teacher: column addition, right to left, one fixed-width line per column —
 * the column's digits, the carry in, and the two-digit column sum (its first digit is the
 * next line's carry) — then the answer. For 47 + 85:
 *
 *     7+5+0=12
 *     4+8+1=13
 *     132
 *
 * Each line is a few copies (digits from the question, the carry from the line above) and one
 * lookup in the addition table; answering directly instead needs the carry before the first
 * digit is written, which a tiny model does not learn in a few minutes.
 */
export function writeTeacherTrace(p: AdditionProblem): TeacherTrace {
  const width = Math.max(String(p.a).length, String(p.b).length);
  const A = String(p.a).padStart(width, "0");
  const B = String(p.b).padStart(width, "0");
  const lines: string[] = [];
  let carry = 0;
  for (let i = width - 1; i >= 0; i--) {
    const x = Number(A[i]);
    const y = Number(B[i]);
    const s = x + y + carry;
    lines.push(`${x}+${y}+${carry}=${String(s).padStart(2, "0")}`);
    carry = s >= 10 ? 1 : 0;
  }
  const sum = p.a + p.b;
  lines.push(String(sum));
  return { reasoning: lines.join("\n"), answer: formatAnswer(sum) };
}

const LINE = /^(\d)\+(\d)\+(\d)=(\d)(\d)$/;

/**
 * Recomputes the answer a trace arrives at from its lines alone — every column sum and the
 * carry chain checked — or null when a line is malformed or wrong. Tests use it to prove the
 * teacher right; it reads a student's reasoning the same way (it does not see the question).
 */
export function readTraceResult(reasoning: string): number | null {
  const lines = reasoning.trim().split("\n");
  const columns = lines.slice(0, -1);
  if (columns.length === 0) return null;
  let carry = 0;
  let digits = "";
  for (const line of columns) {
    const m = LINE.exec(line);
    if (!m) return null;
    const [x, y, c, hi, lo] = m.slice(1).map(Number) as [number, number, number, number, number];
    if (c !== carry || x + y + c !== hi * 10 + lo) return null;
    digits = `${lo}${digits}`;
    carry = hi;
  }
  const result = Number(`${carry}${digits}`);
  return lines[lines.length - 1] === String(result) ? result : null;
}
