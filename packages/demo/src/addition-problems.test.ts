import { describe, expect, it } from "vitest";
import { generateProblems, problemKey } from "./addition-problems.ts";

describe("generateProblems", () => {
  const opts = { seed: 3, digits: 3, trainSize: 2000, heldoutSize: 250 };

  it("is deterministic in its seed", () => {
    expect(generateProblems(opts)).toEqual(generateProblems(opts));
    expect(generateProblems({ ...opts, seed: 4 }).heldout).not.toEqual(generateProblems(opts).heldout);
  });

  it("keeps train and held-out disjoint and free of repeats", () => {
    const { train, heldout } = generateProblems(opts);
    expect(train).toHaveLength(2000);
    expect(heldout).toHaveLength(250);
    const trainKeys = new Set(train.map(problemKey));
    const heldKeys = new Set(heldout.map(problemKey));
    expect(trainKeys.size).toBe(2000);
    expect(heldKeys.size).toBe(250);
    for (const k of heldKeys) expect(trainKeys.has(k)).toBe(false);
  });

  it("draws operands of exactly `digits` digits", () => {
    for (const p of generateProblems(opts).train) {
      expect(String(p.a)).toHaveLength(3);
      expect(String(p.b)).toHaveLength(3);
    }
  });

  it("refuses impossible sizes", () => {
    expect(() => generateProblems({ ...opts, digits: 1 })).toThrow(/digits/);
    expect(() => generateProblems({ ...opts, digits: 2, trainSize: 5000 })).toThrow(/room/);
  });
});
