import { availableParallelism } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { resolveThreads } from "./parallel.ts";

describe("resolveThreads", () => {
  const saved = process.env.DISTILLERY_ENGINE_THREADS;
  afterEach(() => {
    if (saved === undefined) delete process.env.DISTILLERY_ENGINE_THREADS;
    else process.env.DISTILLERY_ENGINE_THREADS = saved;
  });

  it("takes 1 and 2 as given and refuses anything else, naming the value", () => {
    expect(resolveThreads("1")).toBe(1);
    expect(resolveThreads("2")).toBe(2);
    expect(() => resolveThreads("4")).toThrow('threads must be 1, 2 or auto (got "4")');
    expect(() => resolveThreads("two")).toThrow(/got "two"/);
  });

  it("auto gives 1 or 2, never 2 on a single core; the environment sets the default", () => {
    const auto = resolveThreads("auto");
    expect([1, 2]).toContain(auto);
    if (availableParallelism() < 2) expect(auto).toBe(1);
    process.env.DISTILLERY_ENGINE_THREADS = "1";
    expect(resolveThreads(undefined)).toBe(1);
    process.env.DISTILLERY_ENGINE_THREADS = "3";
    expect(() => resolveThreads(undefined)).toThrow(/got "3"/);
  });
});
