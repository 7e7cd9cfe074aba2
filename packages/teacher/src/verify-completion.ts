import { extractBoxed, extractLastNumber, isAnswerCorrect, normalizeAnswer } from "@distillery/core";

/** "The answer is 42." / "the final answer is: $\frac{1}{2}$" — the text after the last such phrase. */
const ANSWER_IS = /(?:final\s+)?answer\s+is\s*[:：]?\s*/gi;

/**
 * The final answer of a teacher's answer text (the reasoning is not searched: numbers there are
 * work): the last `\boxed{…}`, else what follows the last "The answer is", else the last number.
 */
export function extractTeacherAnswer(
  answer: string,
): { value: string; how: "boxed" | "answer-is" | "last-number" } | null {
  const boxed = extractBoxed(answer);
  if (boxed !== null) return { value: boxed, how: "boxed" };
  let tail: string | null = null;
  for (const m of answer.matchAll(ANSWER_IS)) tail = answer.slice((m.index ?? 0) + m[0].length);
  if (tail !== null) {
    const phrase = (tail.split(/\n/)[0] ?? "")
      .trim()
      .replace(/[.。]\s*$/, "")
      .replace(/^\$+|\$+$/g, "");
    if (phrase !== "") return { value: phrase, how: "answer-is" };
  }
  const n = extractLastNumber(answer);
  return n === null ? null : { value: n, how: "last-number" };
}

/** `\frac{a}{b}`, `\dfrac`, `a/b` as a number when both sides are; otherwise the core normal form. */
function canonical(answer: string): string {
  const s = answer
    .replace(/\\[dt]?frac\{([^{}]+)\}\{([^{}]+)\}/g, "($1)/($2)")
    .replace(/\\left|\\right/g, "");
  const frac = /^\(?\s*(-?[\d.,]+)\s*\)?\s*\/\s*\(?\s*(-?[\d.,]+)\s*\)?$/.exec(s.replace(/[\s$]/g, ""));
  if (frac) {
    const a = Number(normalizeAnswer(frac[1] as string));
    const b = Number(normalizeAnswer(frac[2] as string));
    if (Number.isFinite(a) && Number.isFinite(b) && b !== 0) return String(Math.round((a / b) * 1e12) / 1e12);
  }
  return normalizeAnswer(s.replace(/\\text\{([^{}]*)\}/g, "$1"));
}

/**
 * Scored as the evaluations score (core's normalisation of numbers, separators and `$`), plus
 * simple fractions: "\frac{1}{2}", "1/2" and "0.5" agree.
 */
export function answersMatch(extracted: string, reference: string): boolean {
  if (isAnswerCorrect(extracted, reference)) return true;
  const ref = extractBoxed(reference) ?? reference.trim();
  const want = canonical(ref);
  return want !== "" && canonical(extracted) === want;
}

export interface Verification {
  /** the extracted final answer; null when there is none */
  extracted: string | null;
  /** null when there is no reference to compare with */
  isCorrect: boolean | null;
  /** reasoning present and (when inline) a well-formed, closed think block, and an answer after it */
  isThinkValid: boolean;
  /** finish_reason "length": the teacher was cut off */
  isTruncated: boolean;
  isDuplicate: boolean;
  /** the row passes every check that applies */
  isVerified: boolean;
  /** why not, in words (empty when verified) */
  reasons: string[];
}

/** A key for duplicate detection: the reasoning and answer with whitespace collapsed. */
export function completionKey(reasoning: string | null, answer: string): string {
  return `${(reasoning ?? "").replace(/\s+/g, " ").trim()}\u0000${answer.replace(/\s+/g, " ").trim()}`;
}

/** Checks one completion; `seen` holds the keys of the prompt's earlier samples. */
export function verifyCompletion(
  c: { reasoning: string | null; answer: string; finishReason: string | null; think: string },
  reference: string | null | undefined,
  seen?: Set<string>,
): Verification {
  const reasons: string[] = [];
  const found = extractTeacherAnswer(c.answer);
  const extracted = found?.value ?? null;
  const hasReference = typeof reference === "string" && reference.trim() !== "";
  const isCorrect = hasReference ? extracted !== null && answersMatch(extracted, reference) : null;
  const isTruncated = c.finishReason === "length";
  const isThinkValid =
    c.reasoning !== null && c.reasoning !== "" && c.think !== "unclosed" && c.answer !== "";
  const key = completionKey(c.reasoning, c.answer);
  const isDuplicate = seen ? seen.has(key) : false;
  seen?.add(key);
  if (isTruncated) reasons.push("truncated (finish_reason: length)");
  if (!isThinkValid)
    reasons.push(c.think === "unclosed" ? "think block never closed" : "no reasoning or no answer");
  if (isCorrect === false)
    reasons.push(
      extracted === null ? "no final answer found" : `answer ${extracted} does not match the reference`,
    );
  if (isDuplicate) reasons.push("duplicate of an earlier sample");
  return {
    extracted,
    isCorrect,
    isThinkValid,
    isTruncated,
    isDuplicate,
    isVerified: reasons.length === 0,
    reasons,
  };
}
