/**
 * GPT-2's byte-to-unicode table: every byte maps to a printable character, so byte-level BPE
 * tokens are valid JSON strings. The same table the HF `ByteLevel` pre-tokenizer and decoder use.
 */
export function buildByteToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table: string[] = new Array(256);
  bs.forEach((b, i) => {
    table[b] = String.fromCodePoint(cs[i] as number);
  });
  return table;
}

/**
 * The split pattern: GPT-2's, with numbers split into single digits (as Llama-3 and Qwen do),
 * which small models need to learn arithmetic digit by digit.
 */
export const SPLIT_PATTERN = "'(?:[sdmt]|ll|ve|re)| ?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
