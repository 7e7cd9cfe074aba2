import { describe, expect, it } from "vitest";
import { buildMetricSeries, mergeSeriesPoint, smoothSeries } from "./metric-series.ts";

describe("buildMetricSeries", () => {
  it("splits metric events into one series per name, sorted by step", () => {
    const series = buildMetricSeries([
      { seq: 1, step: 5, values: { loss: 2, learning_rate: 1e-3 } },
      { seq: 2, step: 10, values: { loss: 1.5, learning_rate: 9e-4 } },
      { seq: 3, step: 10, values: { eval_loss: 1.7 } },
    ]);
    expect(series).toEqual({
      loss: [
        [5, 2],
        [10, 1.5],
      ],
      learning_rate: [
        [5, 1e-3],
        [10, 9e-4],
      ],
      eval_loss: [[10, 1.7]],
    });
  });

  it("keeps one point per step: the latest seq wins after a resume re-emits steps", () => {
    // attempt 1 logged steps 10..30, checkpointed at 20, was killed; attempt 2 re-emits 30 and 40
    const series = buildMetricSeries([
      { seq: 3, step: 10, values: { loss: 3 } },
      { seq: 5, step: 20, values: { loss: 2 } },
      { seq: 7, step: 30, values: { loss: 1.9 } },
      { seq: 9, step: 30, values: { loss: 1.8 } },
      { seq: 10, step: 40, values: { loss: 1.5 } },
    ]);
    expect(series.loss).toEqual([
      [10, 3],
      [20, 2],
      [30, 1.8],
      [40, 1.5],
    ]);
  });

  it("does not let an older seq seen later overwrite a newer one", () => {
    const series = buildMetricSeries([
      { seq: 9, step: 30, values: { loss: 1.8 } },
      { seq: 7, step: 30, values: { loss: 1.9 } },
    ]);
    expect(series.loss).toEqual([[30, 1.8]]);
  });

  it("drops non-finite values", () => {
    expect(buildMetricSeries([{ seq: 1, step: 1, values: { loss: Number.NaN, grad_norm: 1 } }])).toEqual({
      grad_norm: [[1, 1]],
    });
  });
});

describe("mergeSeriesPoint", () => {
  it("appends a later step, replaces a repeated step, inserts an earlier one in order", () => {
    let s = mergeSeriesPoint(
      [
        [1, 5],
        [2, 4],
      ],
      [3, 3],
    );
    expect(s).toEqual([
      [1, 5],
      [2, 4],
      [3, 3],
    ]);
    s = mergeSeriesPoint(s, [2, 3.5]);
    expect(s).toEqual([
      [1, 5],
      [2, 3.5],
      [3, 3],
    ]);
    expect(
      mergeSeriesPoint(
        [
          [1, 5],
          [3, 3],
        ],
        [2, 4],
      ),
    ).toEqual([
      [1, 5],
      [2, 4],
      [3, 3],
    ]);
  });
});

describe("smoothSeries", () => {
  it("is the identity at weight 0 and keeps a constant series constant", () => {
    expect(
      smoothSeries(
        [
          [1, 3],
          [2, 5],
        ],
        0,
      ),
    ).toEqual([
      [1, 3],
      [2, 5],
    ]);
    for (const [, y] of smoothSeries(
      [
        [1, 2],
        [2, 2],
        [3, 2],
      ],
      0.9,
    ))
      expect(y).toBeCloseTo(2);
  });
  it("damps noise", () => {
    const s = smoothSeries(
      [
        [1, 0],
        [2, 10],
        [3, 0],
        [4, 10],
      ],
      0.6,
    );
    expect(Math.max(...s.slice(1).map((p) => p[1]))).toBeLessThan(10);
  });
});
