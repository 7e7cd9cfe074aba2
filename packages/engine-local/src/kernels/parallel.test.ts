import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { resolveThreads } from "./parallel.ts";

describe("resolveThreads", () => {
  it("takes 1 and 2 as given and refuses anything else, naming the value", () => {
    expect(resolveThreads("1")).toBe(1);
    expect(resolveThreads("2")).toBe(2);
    expect(() => resolveThreads("4")).toThrow('threads must be 1, 2 or auto (got "4")');
    expect(() => resolveThreads("two")).toThrow(/got "two"/);
  });

  it("auto (and no value) gives 1 or 2, never 2 on a single core", () => {
    const auto = resolveThreads("auto");
    expect([1, 2]).toContain(auto);
    if (availableParallelism() < 2) expect(auto).toBe(1);
    expect([1, 2]).toContain(resolveThreads(undefined));
  });
});
