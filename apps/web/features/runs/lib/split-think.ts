/**
 * Splits a model output into its reasoning (`<think>…</think>`) and its answer, so the UI can
 * fold the reasoning. An unclosed `<think>` (generation cut off) is all reasoning; a lone
 * `</think>` (the template opened it in the prompt) closes reasoning from the start.
 */
export function splitThink(output: string): { think: string | null; answer: string; isThinkClosed: boolean } {
  const open = output.indexOf("<think>");
  const close = output.indexOf("</think>", open === -1 ? 0 : open);
  if (open === -1 && close === -1) return { think: null, answer: output, isThinkClosed: false };
  if (open === -1) {
    return {
      think: output.slice(0, close).trim(),
      answer: output.slice(close + 8).trim(),
      isThinkClosed: true,
    };
  }
  const before = output.slice(0, open).trim();
  if (close === -1) return { think: output.slice(open + 7).trim(), answer: before, isThinkClosed: false };
  const answer = [before, output.slice(close + 8).trim()].filter(Boolean).join("\n");
  return { think: output.slice(open + 7, close).trim(), answer, isThinkClosed: true };
}
