import { describe, expect, it } from "vitest";
import { lengthChartData } from "./length-chart.ts";

const ev = (buckets: [string, number, number, number][]) => ({
  metrics: {
    n: 0,
    k: 1,
    accuracy: 0,
    pass_at_1: 0,
    cons_at_k: 0,
    format_compliance: 0,
    by_reasoning_length: buckets.map(([bucket, min, n, accuracy]) => ({ bucket, min, n, accuracy })),
  },
});

describe("accuracy by reasoning length", () => {
  it("puts every evaluation's buckets in length order, each evaluation's accuracy in percent", () => {
    // the base never reasons long, the distilled student never reasons short
    const base = ev([
      ["0", 0, 4, 0.25],
      ["1–15", 1, 6, 0.5],
    ]);
    const distilled = ev([
      ["16–31", 16, 3, 1],
      ["1–15", 1, 7, 0.857],
    ]);
    expect(lengthChartData([base, distilled])).toEqual([
      { bucket: "0", e0: 25, n0: 4 },
      { bucket: "1–15", e0: 50, n0: 6, e1: 85.7, n1: 7 },
      { bucket: "16–31", e1: 100, n1: 3 },
    ]);
  });

  it("has no rows for evaluations without metrics (a queued one)", () => {
    expect(lengthChartData([{ metrics: null }])).toEqual([]);
  });
});
