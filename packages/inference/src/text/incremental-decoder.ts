/**
 * Token ids to text as they stream, as vLLM's detokenize_incrementally does: only a short
 * window is decoded per token (from `prefix`, a few tokens back, so merges and leading-space
 * rules see their context), and the new text is what the window's decoding adds past the part
 * already emitted. A piece ending in U+FFFD (half a multi-byte character over byte-level tokens)
 * is held back until the next token completes it.
 */
export function createIncrementalDecoder(decodeIds: (ids: number[]) => string) {
  const decode = (x: number[]) => (x.length ? decodeIds(x) : "");
  const ids: number[] = [];
  let prefix = 0;
  let read = 0;
  const step = (isFinal: boolean): string => {
    const before = decode(ids.slice(prefix, read));
    const now = decode(ids.slice(prefix));
    if (now.length <= before.length || (!isFinal && now.endsWith("\uFFFD"))) return "";
    prefix = read;
    read = ids.length;
    return now.slice(before.length);
  };
  return {
    push(id: number): string {
      ids.push(id);
      return step(false);
    },
    flush(): string {
      return read < ids.length ? step(true) : "";
    },
  };
}
