import { describe, expect, it } from "vitest";
import { createRowBatcher } from "./generation-jobs.ts";

describe("createRowBatcher", () => {
  it("writes rows in batches, one batch at a time, and resolves each add once its row is written", async () => {
    const batches: number[][] = [];
    let writing = 0;
    let maxWriting = 0;
    const batcher = createRowBatcher<number>(
      async (rows) => {
        writing++;
        maxWriting = Math.max(maxWriting, writing);
        await new Promise((r) => setTimeout(r, 5));
        batches.push(rows);
        writing--;
      },
      { maxRows: 3, maxWaitMs: 5 },
    );
    const done: number[] = [];
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n).then(() => done.push(n))));
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(maxWriting).toBe(1);
  });

  it("a failed write rejects the adds of its batch only", async () => {
    let calls = 0;
    const batcher = createRowBatcher<number>(
      async () => {
        calls++;
        if (calls === 1) throw new Error("db down");
      },
      { maxRows: 2, maxWaitMs: 1 },
    );
    const first = Promise.allSettled([batcher.add(1), batcher.add(2)]);
    const second = Promise.allSettled([batcher.add(3)]);
    expect((await first).map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect((await second).map((r) => r.status)).toEqual(["fulfilled"]);
  });
  it("sends a row at once when no write is in flight; the rows that come during a write go next, together", async () => {
    const batches: number[][] = [];
    let release = () => {};
    const batcher = createRowBatcher<number>(async (rows) => {
      batches.push(rows);
      if (batches.length === 1) await new Promise<void>((r) => (release = r));
    });
    const first = batcher.add(1);
    // no timer to wait for: it went in the same turn of the event loop
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]);
    const next = Promise.all([batcher.add(2), batcher.add(3)]);
    await new Promise((r) => setTimeout(r, 20));
    expect(batches).toEqual([[1]]);
    release();
    await Promise.all([first, next]);
    expect(batches).toEqual([[1], [2, 3]]);
  });
});
