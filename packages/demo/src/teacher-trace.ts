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

/** Pad character of the partial-result register (one byte, so always one token). */
export const REGISTER_PAD = "_";

/**
 * The programmatic teacher: column addition, right to left, one line per column. For
 * 4537 + 2985:
 *
 *     4537+2985 7+5+0=12 2___     what is left to add (zero-padded), the column's digits and
 *     0453+0298 3+8+1=12 22__     carry in = the column sum, then the result digits so far
 *     0045+0029 5+9+1=15 522_
 *     0004+0002 4+2+1=07 7522
 *     7522                        the final carry (when 1) and the digits: the answer
 *
 * Why this shape: a tiny model with rotary positions learns "copy the token k places back"
 * quickly, and learns "copy the digit whose place depends on which line this is" slowly. Every
 * token here is either a copy from a fixed distance back (the shifted operands, the column
 * digits at the end of the operands, the carry from the line above, the register shifted by
 * one) or a lookup over the three digits just written (the column sum). Lines have a fixed
 * width; answering directly instead needs every carry at once, which a tiny model does not learn.
 */
export function writeTeacherTrace(p: AdditionProblem): TeacherTrace {
  const width = Math.max(String(p.a).length, String(p.b).length);
  const lines: string[] = [];
  let carry = 0;
  let register = REGISTER_PAD.repeat(width);
  for (let i = 0; i < width; i++) {
    const A = String(Math.floor(p.a / 10 ** i)).padStart(width, "0");
    const B = String(Math.floor(p.b / 10 ** i)).padStart(width, "0");
    const x = Number(A[width - 1]);
    const y = Number(B[width - 1]);
    const s = x + y + carry;
    register = `${s % 10}${register.slice(0, width - 1)}`;
    lines.push(`${A}+${B} ${x}+${y}+${carry}=${String(s).padStart(2, "0")} ${register}`);
    carry = s >= 10 ? 1 : 0;
  }
  const sum = p.a + p.b;
  lines.push(String(sum));
  return { reasoning: lines.join("\n"), answer: formatAnswer(sum) };
}

const LINE = /^(\d+)\+(\d+) (\d)\+(\d)\+(\d)=(\d)(\d) (\S+)$/;

/**
 * Recomputes the answer a trace arrives at from its lines alone — every shift, column sum,
 * carry and register digit checked — or null when any line is malformed or wrong. Tests use
 * it to prove the teacher right; it reads a student's reasoning the same way.
 */
export function readTraceResult(reasoning: string): number | null {
  const lines = reasoning.trim().split("\n");
  const columns = lines.slice(0, -1);
  if (columns.length === 0) return null;
  let carry = 0;
  let register = "";
  let prev: { A: string; B: string } | null = null;
  for (const line of columns) {
    const m = LINE.exec(line);
    if (!m) return null;
    const [A, B, xs, ys, cs, his, los, reg] = m.slice(1) as [string, string, string, string, string, string, string, string];
    const [x, y, c, hi, lo] = [xs, ys, cs, his, los].map(Number) as [number, number, number, number, number];
    if (A.length !== B.length || reg.length !== A.length) return null;
    if (prev && (A !== `0${prev.A.slice(0, -1)}` || B !== `0${prev.B.slice(0, -1)}`)) return null;
    if (x !== Number(A[A.length - 1]) || y !== Number(B[B.length - 1])) return null;
    if (c !== carry || x + y + c !== hi * 10 + lo) return null;
    register = `${lo}${register}`;
    if (reg !== register.padEnd(A.length, REGISTER_PAD)) return null;
    carry = hi;
    prev = { A, B };
  }
  const result = Number(`${carry}${register}`);
  return lines[lines.length - 1] === String(result) ? result : null;
}
