import { createHash } from "node:crypto";
import { type CanonicalExample, type ChatTemplateSpec, getPromptText } from "@distillery/core";
import { DatasetError } from "./dataset-error.ts";
import { type DatasetFilter, type DatasetFilterInput, ZDatasetFilter } from "./dataset-filter.ts";
import { answersAgree } from "./extract-final-answer.ts";
import type { RowSink, RowSinkResult } from "./row-sink.ts";
import { chooseIndices, createSeededRandom } from "./seeded-random.ts";
import type { TokenCounter } from "./token-counter.ts";
import { countExampleTokens } from "./token-stats.ts";

export interface FilterVersionOptions {
  /** opens the parent version's rows; called twice when a sample is requested */
  readRows: () => AsyncIterable<CanonicalExample>;
  filters: DatasetFilterInput[];
  sink: RowSink;
  /** needed by maxTokens */
  counter?: TokenCounter;
  template?: ChatTemplateSpec;
}

export interface FilterReport {
  input: number;
  output: number;
  /** rows dropped by each filter, in order */
  dropped: { filter: DatasetFilter["type"]; rows: number }[];
  sink: RowSinkResult;
}

const normalize = (s: string) => s.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
const digest = (s: string) => createHash("sha1").update(s).digest("base64");

function fieldText(e: CanonicalExample, field: "prompt" | "reasoning" | "answer" | "any"): string {
  if (field === "prompt") return getPromptText(e);
  if (field === "reasoning") return e.reasoning ?? "";
  if (field === "answer") return e.answer;
  return `${getPromptText(e)}\n${e.reasoning ?? ""}\n${e.answer}`;
}

/** Builds a per-row predicate for every filter but `sample`; stateful ones (dedupe) keep their state. */
function makePredicate(f: DatasetFilter, options: FilterVersionOptions): (e: CanonicalExample) => boolean {
  switch (f.type) {
    case "maxTokens": {
      const counter = options.counter;
      if (!counter)
        throw new DatasetError("bad_format", "the maxTokens filter needs the student's tokenizer");
      return (e) => countExampleTokens(e, counter, options.template)[f.of] <= f.max;
    }
    case "dedupe": {
      const seen = new Set<string>();
      return (e) => {
        const text = f.on === "prompt" ? getPromptText(e) : fieldText(e, "any");
        const key = digest(f.mode === "normalized" ? normalize(text) : text);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      };
    }
    case "think":
      return (e) => !(f.drop as string[]).includes(e.think);
    case "answerMatch":
      return (e) => {
        const agree = e.reference === undefined ? null : answersAgree(e.answer, e.reference);
        return agree === null ? f.whenUnknown === "keep" : agree;
      };
    case "regex": {
      let re: RegExp;
      try {
        re = new RegExp(f.pattern, f.flags);
      } catch (err) {
        throw new DatasetError("bad_format", `invalid regular expression: ${(err as Error).message}`, {
          field: "pattern",
        });
      }
      return (e) => re.test(fieldText(e, f.field)) === (f.action === "include");
    }
    case "sample":
      return () => true;
  }
}

/**
 * Streams a parent version through the filters into a new version's sink. A random sample needs
 * the surviving count first, so it reads the parent twice (filters are deterministic) and keeps
 * a seeded choice of indices, never the rows. Aborts the sink on any failure.
 */
export async function filterVersion(options: FilterVersionOptions): Promise<FilterReport> {
  const filters = options.filters.map((f) => ZDatasetFilter.parse(f));
  const sample = filters.find((f) => f.type === "sample");
  const steps = filters.filter((f) => f.type !== "sample");
  try {
    const run = async (emit: (e: CanonicalExample, index: number) => Promise<void> | void) => {
      const predicates = steps.map((f) => makePredicate(f, options));
      const dropped = steps.map(() => 0);
      let input = 0;
      let kept = 0;
      for await (const e of options.readRows()) {
        input++;
        const failed = predicates.findIndex((p) => !p(e));
        if (failed !== -1) {
          dropped[failed] = (dropped[failed] as number) + 1;
          continue;
        }
        await emit(e, kept++);
      }
      return { input, kept, dropped };
    };
    let chosen: Set<number> | undefined;
    if (sample?.type === "sample") {
      const { kept } = await run(() => {});
      chosen = chooseIndices(kept, sample.n, createSeededRandom(sample.seed));
    }
    let batch: CanonicalExample[] = [];
    let output = 0;
    const result = await run(async (e, i) => {
      if (chosen && !chosen.has(i)) return;
      batch.push(e);
      output++;
      if (batch.length >= 512) {
        await options.sink.write(batch);
        batch = [];
      }
    });
    await options.sink.write(batch);
    if (output === 0) throw new DatasetError("empty", "the filters leave no rows");
    const dropped: FilterReport["dropped"] = steps.map((f, i) => ({
      filter: f.type,
      rows: result.dropped[i] as number,
    }));
    if (sample) dropped.push({ filter: "sample", rows: result.kept - output });
    return { input: result.input, output, dropped, sink: await options.sink.commit() };
  } catch (err) {
    await options.sink.abort(err);
    throw err;
  }
}
