/**
 * The final answer of a math-style response: the content of the last `\boxed{…}` (braces
 * balanced), else the last number. Normalised for comparison: no spaces, `$`, trailing `.`,
 * thousands separators; numbers compared as numbers.
 */
export function extractFinalAnswer(text: string): string | null {
  const at = text.lastIndexOf("\\boxed{");
  if (at !== -1) {
    let depth = 0;
    const start = at + "\\boxed{".length;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (c === "{") depth++;
      else if (c === "}") {
        if (depth === 0) return text.slice(start, i).trim();
        depth--;
      }
    }
  }
  const numbers = text.match(/-?\d[\d,]*(?:\.\d+)?/g);
  return numbers ? (numbers[numbers.length - 1] as string) : null;
}

export function normalizeAnswer(answer: string): string {
  const s = answer
    .replace(/[\s$]/g, "")
    .replace(/\\[,!;]/g, "")
    .replace(/\.$/, "");
  const plain = s.replace(/(\d),(?=\d{3}\b)/g, "$1");
  const n = Number(plain);
  return plain !== "" && Number.isFinite(n) ? String(n) : plain.toLowerCase();
}

export function answersAgree(response: string, reference: string): boolean | null {
  const got = extractFinalAnswer(response);
  const want = extractFinalAnswer(reference) ?? reference.trim();
  if (got === null || want === "") return null;
  return normalizeAnswer(got) === normalizeAnswer(want);
}
