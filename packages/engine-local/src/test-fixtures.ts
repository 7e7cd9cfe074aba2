import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineEvent, EngineJobInput, RunConfigInput } from "@distillery/core";
import { createTinyModel } from "./create-tiny-model.ts";

/** A synthetic task a tiny model can learn exactly: name a colour's opposite, with a <think> part. */
const PAIRS: [string, string][] = [
  ["black", "white"],
  ["red", "green"],
  ["blue", "orange"],
  ["yellow", "purple"],
  ["up", "down"],
  ["left", "right"],
  ["hot", "cold"],
  ["day", "night"],
];

export function renderPrompt(word: string): string {
  return `<|user|>\nOpposite of ${word}?<|end|>\n<|assistant|>\n`;
}

export function makeTaskExamples(): { prompt: string; completion: string }[] {
  return PAIRS.map(([a, b]) => ({
    prompt: renderPrompt(a),
    completion: `<think>\n${a}\n</think>\n\n${b}<|end|>\n`,
  }));
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `engine-${prefix}-`));
}

/** A tiny random-init model whose tokenizer was trained on the task's text. */
export function createFixtureModel(
  opts: { hiddenSize?: number; numLayers?: number; tie?: boolean; numKvHeads?: number } = {},
): string {
  const dir = makeTempDir("model");
  const corpus = makeTaskExamples().flatMap((e) => [e.prompt, e.completion]);
  createTinyModel(dir, {
    corpus,
    vocabSize: 300,
    hiddenSize: opts.hiddenSize ?? 32,
    numLayers: opts.numLayers ?? 2,
    numHeads: 4,
    numKvHeads: opts.numKvHeads ?? 2,
    maxPositions: 128,
    tieWordEmbeddings: opts.tie ?? true,
    seed: 1,
  });
  return dir;
}

export function writeJsonl(rows: unknown[]): string {
  const path = join(makeTempDir("data"), "train.jsonl");
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join("\n"));
  return path;
}

/** `config` is loosely typed on purpose: tests pass literal objects, and bad-input tests pass bad ones. */
export function makeJob(
  baseModel: string,
  config: Record<string, unknown>,
  extra: Partial<EngineJobInput> = {},
): EngineJobInput {
  return {
    runId: "run-test",
    config: {
      model: { id: "tiny" },
      data: { datasetVersionId: "v1", template: "phi3", evalFraction: 0 },
      ...config,
    } as RunConfigInput,
    paths: { baseModel, trainData: writeJsonl(makeTaskExamples()), outDir: makeTempDir("out") },
    samplePrompts: [],
    startSeq: 0,
    ...extra,
  };
}

export function collectEvents(): { events: EngineEvent[]; emit: (e: EngineEvent) => void } {
  const events: EngineEvent[] = [];
  return { events, emit: (e) => events.push(e) };
}
