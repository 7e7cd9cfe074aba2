/**
 * Child process of bench-ingest: writes the Magpie JSONL and a tokenizer.json trained on rows
 * like it, so generation's memory never counts toward the ingest's peak RSS.
 * Usage: generate-bench-data.ts <dir> <rows>
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createTinySentencePieceTokenizer,
  createTinyTokenizer,
} from "../src/test-fixtures/create-tiny-tokenizer.ts";
import { createRng, makeMagpieRow, writeMagpieJsonl } from "./generate-magpie.ts";

const [dir, rowsArg] = process.argv.slice(2);
if (!dir || !rowsArg) throw new Error("usage: generate-bench-data.ts <dir> <rows>");
const t = performance.now();
const bytes = await writeMagpieJsonl(join(dir, "magpie.jsonl"), Number(rowsArg));
const rnd = createRng(99);
const corpus = Array.from({ length: 200 }, (_, i) => makeMagpieRow(rnd, i)).join("\n");
// BENCH_TOKENIZER=sentencepiece: a Phi-3/Llama-2 style tokenizer (the seed student's family)
const tokenizer =
  process.env.BENCH_TOKENIZER === "sentencepiece"
    ? createTinySentencePieceTokenizer(corpus, 800)
    : createTinyTokenizer(corpus, 800);
await writeFile(join(dir, "tokenizer.json"), JSON.stringify(tokenizer));
console.log(
  `generated ${rowsArg} rows, ${(bytes / 1e6).toFixed(0)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);
