export interface TextSpan {
  text: string;
  isSpecial: boolean;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Splits rendered text into plain and special-token spans for the UI, which renders each span
 * as text (never HTML). Longer tokens win where one token is a prefix of another.
 */
export function highlightSpecialTokens(text: string, specialTokens: readonly string[]): TextSpan[] {
  const tokens = [...new Set(specialTokens.filter((t) => t.length > 0))].sort((a, b) => b.length - a.length);
  if (tokens.length === 0) return text ? [{ text, isSpecial: false }] : [];
  const re = new RegExp(tokens.map(escapeRegExp).join("|"), "g");
  const spans: TextSpan[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    const at = m.index ?? 0;
    if (at > last) spans.push({ text: text.slice(last, at), isSpecial: false });
    spans.push({ text: m[0], isSpecial: true });
    last = at + m[0].length;
  }
  if (last < text.length) spans.push({ text: text.slice(last), isSpecial: false });
  return spans;
}
