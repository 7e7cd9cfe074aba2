import { existsSync, readFileSync } from "node:fs";
import { type EngineExample, ZEngineExample } from "@distillery/core";
import { EngineError } from "../engine-error.ts";
import { Rng, shuffleInPlace } from "../kernels/rng.ts";
import type { EngineTokenizer } from "../tokenizer/engine-tokenizer.ts";

/** A tokenized example: ids and, per position, whether predicting the next token counts. */
export interface TokenizedExample {
  ids: number[];
  /** index of the first completion token; positions before it are prompt */
  completionStart: number;
  /** the example's row in its JSONL file (stored teacher logits are looked up by it) */
  source?: number;
}

export interface Batch {
  ids: Int32Array;
  targets: Int32Array;
  batch: number;
  seq: number;
  /** packed batches: per position, where its example starts in the sequence (null: one example per row) */
  segStart: Int32Array | null;
  /** non-pad input tokens, for throughput */
  tokens: number;
  /** targets that count in the loss */
  counted: number;
}

export function readExamplesJsonl(path: string, field: string): EngineExample[] {
  if (!existsSync(path)) throw new EngineError("data_invalid", `${path} does not exist`, { field });
  const out: EngineExample[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (!line.trim()) return;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (e) {
        throw new EngineError("data_invalid", `${path} line ${i + 1}: not JSON (${(e as Error).message})`, {
          field,
        });
      }
      const parsed = ZEngineExample.safeParse(raw);
      if (!parsed.success) {
        throw new EngineError(
          "data_invalid",
          `${path} line ${i + 1}: expected {prompt, completion} strings`,
          { field },
        );
      }
      out.push(parsed.data);
    });
  if (out.length === 0) throw new EngineError("data_invalid", `${path} holds no examples`, { field });
  return out;
}

export function tokenizeExamples(
  examples: EngineExample[],
  tok: EngineTokenizer,
  maxSeqLength: number,
): TokenizedExample[] {
  return examples
    .map((e, source) => {
      // the prompt is chat-template output, which places BOS itself where the model wants one
      // (Llama's `{{ bos_token }}`): tokenized without the tokenizer's own special tokens, as
      // transformers' apply_chat_template and trainer-hf do (else a Llama student sees two BOS)
      const prompt = tok.encode(e.prompt, false);
      const completion = tok.encode(e.completion, false);
      // +1: the last position predicts nothing, so a sequence of maxSeqLength+1 ids trains maxSeqLength targets
      const ids = [...prompt, ...completion].slice(0, maxSeqLength + 1);
      return { ids, completionStart: Math.min(prompt.length, ids.length), source };
    })
    .filter((e) => e.ids.length >= 2);
}

/**
 * Right-pads rows into one batch; inputs are ids[:-1], targets ids[1:] (masked with −1). A row is
 * one example, or (packing) several placed one after the other: each keeps its own positions
 * and attends only to itself (segStart), and its last token predicts nothing, so no example
 * learns from or predicts into its neighbour.
 */
export function collateBatch(
  rows: (TokenizedExample | TokenizedExample[])[],
  padId: number,
  completionOnly: boolean,
): Batch {
  const packs = rows.map((r) => (Array.isArray(r) ? r : [r]));
  const width = (p: TokenizedExample[]) => p.reduce((n, e) => n + e.ids.length - 1, 0);
  const seq = Math.max(1, ...packs.map(width));
  const B = packs.length;
  const ids = new Int32Array(B * seq).fill(padId);
  const targets = new Int32Array(B * seq).fill(-1);
  const packed = packs.some((p) => p.length > 1);
  const segStart = packed ? Int32Array.from({ length: B * seq }, (_, i) => i % seq) : null;
  let tokens = 0;
  let counted = 0;
  packs.forEach((pack, b) => {
    let start = 0;
    for (const e of pack) {
      for (let t = 0; t + 1 < e.ids.length; t++) {
        const at = b * seq + start + t;
        ids[at] = e.ids[t] as number;
        if (segStart) segStart[at] = start;
        tokens++;
        // target position t+1 is a completion token (or everything counts)
        if (!completionOnly || t + 1 >= e.completionStart) {
          targets[at] = e.ids[t + 1] as number;
          counted++;
        }
      }
      start += e.ids.length - 1;
    }
  });
  return { ids, targets, batch: B, seq, segStart, tokens, counted };
}

/**
 * Packs whole examples into sequences of at most `maxLen` positions (an example of n ids takes
 * n − 1), first-fit by decreasing length, as TRL's packing does without splitting examples.
 * Deterministic: the same examples always give the same packs, so resume stays exact. Within a
 * pack, examples keep their original order.
 */
export function packExamples(examples: TokenizedExample[], maxLen: number): TokenizedExample[][] {
  const need = examples.map((e) => e.ids.length - 1);
  const order = need.map((_, i) => i).sort((a, b) => (need[b] as number) - (need[a] as number) || a - b);
  // a max-tree over the bins' free space finds the first bin with room in O(log n)
  let size = 1;
  while (size < examples.length) size *= 2;
  const tree = new Int32Array(2 * size).fill(-1);
  const bins: number[][] = [];
  const setFree = (bin: number, free: number) => {
    let i = size + bin;
    tree[i] = free;
    for (i >>= 1; i >= 1; i >>= 1) tree[i] = Math.max(tree[2 * i] as number, tree[2 * i + 1] as number);
  };
  for (const idx of order) {
    const n = need[idx] as number;
    let bin: number;
    if ((tree[1] as number) >= n) {
      let i = 1;
      while (i < size) i = (tree[2 * i] as number) >= n ? 2 * i : 2 * i + 1;
      bin = i - size;
    } else {
      bin = bins.length;
      bins.push([]);
      setFree(bin, maxLen);
    }
    bins[bin]?.push(idx);
    setFree(bin, (tree[size + bin] as number) - n);
  }
  return bins.map((b) => b.sort((x, y) => x - y).map((i) => examples[i] as TokenizedExample));
}

/**
 * The data order is a pure function of (seed, epoch), so micro-batch number n is the same batch
 * whether the run went straight through or was killed and resumed: exact resume needs only the
 * step count.
 */
export class DataOrder {
  private cache = new Map<number, number[]>();
  constructor(
    private readonly size: number,
    private readonly batchSize: number,
    private readonly seed: number,
  ) {}
  get batchesPerEpoch(): number {
    return Math.ceil(this.size / this.batchSize);
  }
  private permutation(epoch: number): number[] {
    let p = this.cache.get(epoch);
    if (!p) {
      p = shuffleInPlace(
        Array.from({ length: this.size }, (_, i) => i),
        Rng.fromSeed(this.seed, 1000 + epoch),
      );
      this.cache.clear();
      this.cache.set(epoch, p);
    }
    return p;
  }
  /** indices of micro-batch number `n` (counted from the start of training) */
  microBatch(n: number): number[] {
    const epoch = Math.floor(n / this.batchesPerEpoch);
    const k = n % this.batchesPerEpoch;
    return this.permutation(epoch).slice(k * this.batchSize, (k + 1) * this.batchSize);
  }
}
