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
}

export interface Batch {
  ids: Int32Array;
  targets: Int32Array;
  batch: number;
  seq: number;
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
    .map((e) => {
      const prompt = tok.encode(e.prompt, true);
      const completion = tok.encode(e.completion, false);
      // +1: the last position predicts nothing, so a sequence of maxSeqLength+1 ids trains maxSeqLength targets
      const ids = [...prompt, ...completion].slice(0, maxSeqLength + 1);
      return { ids, completionStart: Math.min(prompt.length, ids.length) };
    })
    .filter((e) => e.ids.length >= 2);
}

/** Right-pads examples into one batch; inputs are ids[:-1], targets ids[1:] (masked with −1). */
export function collateBatch(examples: TokenizedExample[], padId: number, completionOnly: boolean): Batch {
  const seq = Math.max(1, ...examples.map((e) => e.ids.length - 1));
  const B = examples.length;
  const ids = new Int32Array(B * seq).fill(padId);
  const targets = new Int32Array(B * seq).fill(-1);
  let tokens = 0;
  let counted = 0;
  examples.forEach((e, b) => {
    for (let t = 0; t + 1 < e.ids.length; t++) {
      ids[b * seq + t] = e.ids[t] as number;
      tokens++;
      // target position t+1 is a completion token (or everything counts)
      if (!completionOnly || t + 1 >= e.completionStart) {
        targets[b * seq + t] = e.ids[t + 1] as number;
        counted++;
      }
    }
  });
  return { ids, targets, batch: B, seq, tokens, counted };
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
