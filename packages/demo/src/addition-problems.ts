import { createSeededRandom } from "@distillery/datasets";

/** One problem of the demo task: the sum of two `digits`-digit numbers. */
export interface AdditionProblem {
  a: number;
  b: number;
}

export interface DemoProblemSets {
  train: AdditionProblem[];
  heldout: AdditionProblem[];
}

export interface GenerateProblemsOptions {
  seed: number;
  /** digits of each operand (leading digit non-zero), 2–9 */
  digits: number;
  trainSize: number;
  heldoutSize: number;
}

/** Stable identity of a problem: a + b and b + a are different problems to the student. */
export function problemKey(p: AdditionProblem): string {
  return `${p.a}+${p.b}`;
}

export function problemQuestion(p: AdditionProblem): string {
  return `What is ${p.a} + ${p.b}?`;
}

/**
 * Seeded problem sets: held-out problems are drawn first, then train problems are drawn until
 * none repeats and none is held out, so the two sets are disjoint by construction and the same
 * seed gives the same sets on every machine (mulberry32, no Math.random).
 */
export function generateProblems(opts: GenerateProblemsOptions): DemoProblemSets {
  if (!Number.isInteger(opts.digits) || opts.digits < 2 || opts.digits > 9)
    throw new Error("digits must be an integer in 2..9");
  const lo = 10 ** (opts.digits - 1);
  const span = 9 * lo;
  const space = span * span;
  if (opts.trainSize + opts.heldoutSize > space / 2)
    throw new Error(`asked for more problems than ${opts.digits}-digit addition has room for`);
  const random = createSeededRandom(opts.seed);
  const seen = new Set<string>();
  const draw = (n: number): AdditionProblem[] => {
    const out: AdditionProblem[] = [];
    while (out.length < n) {
      const p = { a: lo + Math.floor(random() * span), b: lo + Math.floor(random() * span) };
      const key = problemKey(p);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(p);
    }
    return out;
  };
  const heldout = draw(opts.heldoutSize);
  const train = draw(opts.trainSize);
  return { train, heldout };
}
