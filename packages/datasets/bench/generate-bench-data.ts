/**
 * Child process of bench-ingest: writes the Magpie JSONL and a tokenizer.json trained on rows
 * like it, so generation's memory never counts toward the ingest's peak RSS.
 * Usage: generate-bench-data.ts <dir> <rows>
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTinyTokenizer } from "../src/test-fixtures/create-tiny-tokenizer.ts";
import { createRng, makeMagpieRow, writeMagpieJsonl } from "./generate-magpie.ts";

const [dir, rowsArg] = process.argv.slice(2);
if (!dir || !rowsArg) throw new Error("usage: generate-bench-data.ts <dir> <rows>");
const t = performance.now();
const bytes = await writeMagpieJsonl(join(dir, "magpie.jsonl"), Number(rowsArg));
const rnd = createRng(99);
const corpus = Array.from({ length: 200 }, (_, i) => makeMagpieRow(rnd, i)).join("\n");
await writeFile(join(dir, "tokenizer.json"), JSON.stringify(createTinyTokenizer(corpus, 800)));
console.log(
  `generated ${rowsArg} rows, ${(bytes / 1e6).toFixed(0)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);
