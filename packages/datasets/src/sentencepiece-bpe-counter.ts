/**
 * Counts tokens for SentencePiece-style BPE tokenizers (Llama-2, Phi-3, Mistral v1): spaces
 * become "▁", one "▁" is prepended, and BPE runs over the whole text with byte fallback. The
 * general encoder runs BPE over each whole section, which is slow and uncacheable; this counter
 * cuts the text before every "▁" that follows another character — exact whenever no vocabulary
 * token has a "▁" after a non-"▁" character, which `isSentencePieceSafe` checks at load — and
 * caches counts per piece. Equality with @huggingface/tokenizers is a test.
 */

export interface AddedTokenSpec {
  content: string;
  lstrip: boolean;
  rstrip: boolean;
}

export interface SentencePieceOptions {
  merges: readonly (readonly [string, string])[];
  vocab: ReadonlySet<string>;
  addedTokens: readonly AddedTokenSpec[];
  /** "normalizer": Prepend("▁") on every section; "always"/"first": Metaspace's prepend_scheme */
  prepend: "normalizer" | "always" | "first";
  byteFallback: boolean;
}

const SPACE = "\u2581";
const TABLE_SIZE = 1 << 19;

/** No token may carry "▁" after another character: then pieces never merge across a cut. */
export function isSentencePieceSafe(tokens: Iterable<string>): boolean {
  for (const t of tokens) {
    for (let p = 1; p < t.length; p++) if (t[p] === SPACE && t[p - 1] !== SPACE) return false;
  }
  return true;
}

export class SentencePieceBpeCounter {
  private readonly ranks = new Map<string, number>();
  private readonly added: AddedTokenSpec[];
  private readonly addedStart = new Uint8Array(65536);
  /** open addressing, 4 ints per slot: h1, h2, token count (0 = empty), unused */
  private readonly table = new Int32Array(TABLE_SIZE * 4);
  private used = 0;
  private readonly encoder = new TextEncoder();

  constructor(private readonly options: SentencePieceOptions) {
    options.merges.forEach(([a, b], rank) => {
      this.ranks.set(`${a} ${b}`, rank);
    });
    this.added = [...options.addedTokens]
      .filter((t) => t.content)
      .sort((a, b) => b.content.length - a.content.length);
    for (const t of this.added) this.addedStart[t.content.charCodeAt(0)] = 1;
  }

  count(text: string): number {
    // 1. cut at added tokens (longest first), as the tokenizer does before normalising
    const sections: (string | AddedTokenSpec)[] = [];
    let last = 0;
    for (let i = 0; i < text.length; i++) {
      if (this.addedStart[text.charCodeAt(i)] !== 1) continue;
      const hit = this.added.find((t) => text.startsWith(t.content, i));
      if (!hit) continue;
      sections.push(text.slice(last, i), hit);
      i += hit.content.length - 1;
      last = i + 1;
    }
    sections.push(text.slice(last));
    // 2. lstrip/rstrip eat whitespace beside an added token
    for (let i = 0; i < sections.length; i++) {
      const s = sections[i];
      if (s === undefined || typeof s === "string") continue;
      const before = sections[i - 1];
      const after = sections[i + 1];
      if (s.lstrip && typeof before === "string") sections[i - 1] = before.trimEnd();
      if (s.rstrip && typeof after === "string") sections[i + 1] = after.trimStart();
    }
    // 3. normalise and count each text section by pieces
    let tokens = 0;
    for (let i = 0; i < sections.length; i++) {
      const s = sections[i] as string | AddedTokenSpec;
      if (typeof s !== "string") {
        tokens++;
        continue;
      }
      if (s.length === 0) continue;
      // Works on the section itself, reading " " as "▁" and the prepended "▁" as virtual, so no
      // normalised copy is built; pieces are cut before each "▁" that follows another character.
      const { prepend } = this.options;
      const virtual =
        prepend === "normalizer" || (s.charCodeAt(0) !== 32 && (prepend === "always" || i === 0));
      let start = 0;
      let withVirtual = virtual;
      let prev = virtual ? 0x2581 : -1;
      let h1 = 0;
      let h2 = 0x811c9dc5;
      if (virtual) {
        h1 = 0x2581;
        h2 = Math.imul(h2 ^ 0x2581, 0x01000193);
      }
      for (let p = 0; p < s.length; p++) {
        const raw = s.charCodeAt(p);
        const c = raw === 32 ? 0x2581 : raw;
        if (c === 0x2581 && prev !== 0x2581 && prev !== -1) {
          tokens += this.lookup(
            h1 ^ Math.imul(p - start + (withVirtual ? 1 : 0), 0x9e3779b1),
            h2,
            s,
            start,
            p,
            withVirtual,
          );
          start = p;
          withVirtual = false;
          h1 = 0;
          h2 = 0x811c9dc5;
        }
        h1 = (Math.imul(h1, 31) + c) | 0;
        h2 = Math.imul(h2 ^ c, 0x01000193);
        prev = c;
      }
      tokens += this.lookup(
        h1 ^ Math.imul(s.length - start + (withVirtual ? 1 : 0), 0x9e3779b1),
        h2,
        s,
        start,
        s.length,
        withVirtual,
      );
    }
    return tokens;
  }

  /** Token count of a piece by its two hashes; runs BPE and remembers it on a miss. */
  private lookup(
    h1: number,
    h2: number,
    text: string,
    start: number,
    end: number,
    withSpace: boolean,
  ): number {
    const table = this.table;
    let slot = (h1 ^ (h2 >>> 7)) & (TABLE_SIZE - 1);
    for (;;) {
      const at = slot << 2;
      const count = table[at + 2] as number;
      if (count === 0) break;
      if (table[at] === h1 && table[at + 1] === h2) return count;
      slot = (slot + 1) & (TABLE_SIZE - 1);
    }
    const count = this.bpe((withSpace ? SPACE : "") + text.slice(start, end).replaceAll(" ", SPACE));
    if (this.used >= TABLE_SIZE * 0.6) {
      table.fill(0);
      this.used = 0;
      return count;
    }
    const at = slot << 2;
    table[at] = h1;
    table[at + 1] = h2;
    table[at + 2] = count;
    this.used++;
    return count;
  }

  private bpe(piece: string): number {
    const symbols = Array.from(piece);
    for (;;) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i < symbols.length - 1; i++) {
        const r = this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best === -1) break;
      const a = symbols[best] as string;
      const b = symbols[best + 1] as string;
      for (let i = 0; i < symbols.length - 1; i++) {
        if (symbols[i] === a && symbols[i + 1] === b) symbols.splice(i, 2, a + b);
      }
    }
    let count = 0;
    for (const s of symbols) {
      if (this.options.vocab.has(s)) count++;
      else count += this.options.byteFallback ? this.encoder.encode(s).length : 1;
    }
    return count;
  }
}
