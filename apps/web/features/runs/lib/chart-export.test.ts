import { describe, expect, it } from "vitest";
import { chartToCsv } from "./chart-export.ts";

describe("a chart as CSV", () => {
  it("has one row per step and one column per curve, blank where a curve has no point", () => {
    const csv = chartToCsv([
      {
        label: "train loss",
        points: [
          [10, 2.5],
          [20, 2.1],
          [30, 1.9],
        ],
      },
      { label: 'eval "held-out"', points: [[20, 2.3]] },
    ]);
    expect(csv).toBe('step,train loss,"eval ""held-out"""\n10,2.5,\n20,2.1,2.3\n30,1.9,\n');
  });
});
