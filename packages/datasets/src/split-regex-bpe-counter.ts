import { SplitPreTokenizer } from "@huggingface/tokenizers";
import { ByteLevelBpeCounter } from "./byte-level-bpe-counter.ts";

/**
 * Counts tokens for byte-level BPE tokenizers that split with their own regex first (Llama-3,
 * Qwen2/2.5: a `Split` pre-tokenizer followed by ByteLevel without its regex, NFC for Qwen).
 * The regex comes from @huggingface/tokenizers' own Split pre-tokenizer (it translates
 * Oniguruma syntax to JavaScript), so the pieces are the library's; what this adds is a
 * per-piece count cache instead of running the full encoder on every piece.
 */
export class SplitRegexBpeCounter {
  private readonly split: { pre_tokenize_text(text: string): string[] };
  private readonly words: ByteLevelBpeCounter;
  private readonly added: string[];
  private readonly addedStart = new Uint8Array(65536);

  constructor(
    splitConfig: Record<string, unknown>,
    merges: readonly (readonly [string, string])[],
    addedTokens: readonly string[],
    private readonly nfc: boolean,
  ) {
    this.split = new SplitPreTokenizer(splitConfig as never) as unknown as {
      pre_tokenize_text(text: string): string[];
    };
    this.words = new ByteLevelBpeCounter(merges, []);
    this.added = addedTokens.filter(Boolean).sort((a, b) => b.length - a.length);
    for (const t of this.added) this.addedStart[t.charCodeAt(0)] = 1;
  }

  count(text: string): number {
    let tokens = 0;
    let last = 0;
    for (let i = 0; i < text.length; i++) {
      if (this.addedStart[text.charCodeAt(i)] !== 1) continue;
      const hit = this.added.find((t) => text.startsWith(t, i));
      if (!hit) continue;
      tokens += this.countSection(text.slice(last, i)) + 1;
      i += hit.length - 1;
      last = i + 1;
    }
    return tokens + this.countSection(text.slice(last));
  }

  private countSection(section: string): number {
    if (section.length === 0) return 0;
    const text = this.nfc ? section.normalize("NFC") : section;
    let tokens = 0;
    for (const piece of this.split.pre_tokenize_text(text)) tokens += this.words.countWord(piece);
    return tokens;
  }
}
