/**
 * Token ids to text as they stream: the whole sequence is decoded and the new suffix emitted,
 * so multi-byte characters split over byte-level tokens come out whole (a trailing U+FFFD is
 * held back until the next token completes it).
 */
export function createIncrementalDecoder(decode: (ids: number[]) => string) {
  const ids: number[] = [];
  let emitted = 0;
  return {
    push(id: number): string {
      ids.push(id);
      const text = decode(ids);
      if (text.endsWith("\uFFFD")) return "";
      const piece = text.slice(emitted);
      emitted = text.length;
      return piece;
    },
    flush(): string {
      const text = decode(ids);
      const piece = text.slice(emitted);
      emitted = text.length;
      return piece;
    },
  };
}
