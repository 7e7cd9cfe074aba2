import type { CanonicalExample } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { pageVersionRows } from "./page-version-rows.ts";

const rows: CanonicalExample[] = Array.from({ length: 30 }, (_, i) => ({
  messages: [{ role: "user", content: i % 3 === 0 ? `Fizz ${i}` : `plain ${i}` }],
  reasoning: null,
  answer: `a${i}`,
  think: "missing",
}));
const readRows = async function* () {
  yield* rows;
};

describe("pageVersionRows", () => {
  it("pages through rows and says whether more follow", async () => {
    const page = await pageVersionRows({ readRows, offset: 10, limit: 5 });
    expect(page.rows.map((r) => r.index)).toEqual([10, 11, 12, 13, 14]);
    expect(page.hasMore).toBe(true);
    expect((await pageVersionRows({ readRows, offset: 28, limit: 5 })).hasMore).toBe(false);
  });
  it("searches case-insensitively and keeps version indices", async () => {
    const page = await pageVersionRows({ readRows, search: "FIZZ", offset: 1, limit: 3 });
    expect(page.rows.map((r) => r.index)).toEqual([3, 6, 9]);
  });
});
