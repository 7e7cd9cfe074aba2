import { extractBoxed, extractLastNumber } from "./extract-final-answer.ts";

/**
 * Canonical form of an answer for comparison: no whitespace, `$`, LaTeX thin spaces, trailing
 * period or thousands separators; numbers as numbers (so "1,200", "1200.0" and "1200" agree);
 * anything else lower-cased.
 */
export function normalizeAnswer(answer: string): string {
  const s = answer
    .replace(/[\s$]/g, "")
    .replace(/\\[,!;]/g, "")
    .replace(/\.$/, "");
  const plain = s.replace(/(\d),(?=\d{3}(?!\d))/g, "$1");
  const n = Number(plain);
  return plain !== "" && Number.isFinite(n) ? String(n) : plain.toLowerCase();
}

/**
 * The reference's answer: a bare reference ("7522") is taken whole; one written as a response
 * ("… \boxed{7522}") gives its boxed answer, else its last number.
 */
export function referenceAnswer(reference: string): string {
  const trimmed = reference.trim();
  if (!trimmed.includes("\\boxed{") && !/\s/.test(trimmed)) return trimmed;
  return extractBoxed(trimmed) ?? extractLastNumber(trimmed) ?? trimmed;
}

/** Whether an extracted answer matches the reference; a missing answer never does. */
export function isAnswerCorrect(extracted: string | null, reference: string): boolean {
  if (extracted === null) return false;
  const want = normalizeAnswer(referenceAnswer(reference));
  return want !== "" && normalizeAnswer(extracted) === want;
}
