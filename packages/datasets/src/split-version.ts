import type { CanonicalExample } from "@distillery/core";
import { DatasetError } from "./dataset-error.ts";
import type { RowSink, RowSinkResult } from "./row-sink.ts";
import { chooseIndices, createSeededRandom } from "./seeded-random.ts";

export interface SplitVersionOptions {
  readRows: () => AsyncIterable<CanonicalExample>;
  train: RowSink;
  test: RowSink;
  /** default 0.1, the seed recipe's 90/10 */
  testFraction?: number;
  seed?: number;
}

export interface SplitReport {
  train: RowSinkResult;
  test: RowSinkResult;
}

/**
 * A seeded, deterministic train/test split: exactly round(n × testFraction) rows go to test,
 * chosen by index with a seeded PRNG, so the same version, fraction and seed always give the
 * same split. Row order is kept within each side. Reads the parent twice (count, then write).
 */
export async function splitVersion(options: SplitVersionOptions): Promise<SplitReport> {
  const fraction = options.testFraction ?? 0.1;
  if (!(fraction > 0 && fraction < 1))
    throw new DatasetError("bad_format", "testFraction must be between 0 and 1", { field: "testFraction" });
  try {
    let n = 0;
    for await (const _ of options.readRows()) n++;
    const nTest = Math.round(n * fraction);
    if (n < 2 || nTest === 0 || nTest === n) {
      throw new DatasetError(
        "empty",
        `${n} rows cannot be split ${Math.round((1 - fraction) * 100)}/${Math.round(fraction * 100)}`,
      );
    }
    const testIdx = chooseIndices(n, nTest, createSeededRandom(options.seed ?? 42));
    let i = 0;
    const train: CanonicalExample[] = [];
    const test: CanonicalExample[] = [];
    for await (const e of options.readRows()) {
      (testIdx.has(i++) ? test : train).push(e);
      if (train.length >= 512) await options.train.write(train.splice(0));
      if (test.length >= 512) await options.test.write(test.splice(0));
    }
    await options.train.write(train);
    await options.test.write(test);
    return { train: await options.train.commit(), test: await options.test.commit() };
  } catch (err) {
    await Promise.all([options.train.abort(err), options.test.abort(err)]);
    throw err;
  }
}
