import { BUILTIN_TEMPLATES, type CanonicalExample } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { createParallelTokenStats } from "./parallel-token-stats.ts";
import { createTinyTokenizer } from "./test-fixtures/create-tiny-tokenizer.ts";
import { createTokenCounter } from "./token-counter.ts";
import { countExampleTokens, createTokenStats } from "./token-stats.ts";

const rows: CanonicalExample[] = Array.from({ length: 700 }, (_, i) => ({
  messages: [{ role: "user", content: `Question ${i}: what is ${i} times ${i % 7}?` }],
  reasoning: i % 10 === 0 ? null : `Multiply ${i} by ${i % 7}. `.repeat(1 + (i % 5)),
  answer: `The answer is \\boxed{${i * (i % 7)}}.`,
  think: i % 10 === 0 ? "missing" : "ok",
}));
const tokenizerJson = createTinyTokenizer(rows.map((r) => r.messages[0]?.content ?? "").join("\n"), 200);

describe("token statistics on a worker thread", () => {
  it("gives the same result as inline statistics", async () => {
    const options = { template: BUILTIN_TEMPLATES.chatml, maxLength: 60 };
    const inline = createTokenStats({ counter: createTokenCounter(tokenizerJson), ...options });
    const parallel = createParallelTokenStats({ tokenizerJson, ...options, batchSize: 50 });
    try {
      for (const r of rows) {
        inline.add(r);
        await parallel.add(r);
      }
      expect(await parallel.result()).toEqual(inline.result());
    } finally {
      await parallel.close();
    }
  });
  it("estimates totals within two tokens of the rendered example", () => {
    const counter = createTokenCounter(tokenizerJson);
    for (const r of rows.slice(0, 50)) {
      const stats = createTokenStats({ counter, template: BUILTIN_TEMPLATES.phi3, maxLength: 1 << 16 });
      stats.add(r);
      const exact = countExampleTokens(r, counter, BUILTIN_TEMPLATES.phi3).total;
      expect(Math.abs(stats.result().histograms.total.max - exact)).toBeLessThanOrEqual(2);
    }
  });
});
