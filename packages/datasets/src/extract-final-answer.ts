import { extractFinalAnswer, normalizeAnswer, referenceAnswer } from "@distillery/core";

/**
 * Whether a row's answer agrees with its reference column, for the answer-match filter:
 * scored exactly as evaluations score a model (core's eval: last `\boxed{…}`, else the last
 * number, normalised). null when either side has no answer to compare.
 */
export function answersAgree(response: string, reference: string): boolean | null {
  const got = extractFinalAnswer(response);
  const want = referenceAnswer(reference);
  if (got === null || want === "") return null;
  return normalizeAnswer(got) === normalizeAnswer(want);
}
