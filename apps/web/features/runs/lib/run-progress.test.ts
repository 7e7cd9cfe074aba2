import { describe, expect, it } from "vitest";
import { estimateEtaSeconds } from "./run-progress.ts";

describe("estimateEtaSeconds", () => {
  it("extrapolates the pace since training started", () => {
    // 20 steps in 10 s → 80 steps left take 40 s
    expect(estimateEtaSeconds({ step: 0, ts: 0 }, { step: 20, ts: 10_000 }, 100)).toBe(40);
  });
  it("measures a resumed run from where it resumed", () => {
    expect(estimateEtaSeconds({ step: 50, ts: 100_000 }, { step: 60, ts: 105_000 }, 100)).toBe(20);
  });
  it("says nothing without progress", () => {
    expect(estimateEtaSeconds({ step: 5, ts: 0 }, { step: 5, ts: 100 }, 10)).toBeNull();
    expect(estimateEtaSeconds(null, { step: 5, ts: 100 }, 10)).toBeNull();
  });
});
