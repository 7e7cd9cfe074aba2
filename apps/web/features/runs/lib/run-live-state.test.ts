import type { EngineEvent } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { applyRunEvent, initRunLiveState } from "./run-live-state.ts";

const base = { runId: "r", ts: 1000 };

describe("run live state", () => {
  it("appends streamed metrics to the snapshot and ignores samples it already has", () => {
    let s = initRunLiveState({
      series: {
        loss: [
          [1, 3],
          [2, 2.5],
        ],
      },
      samples: [{ ...base, type: "sample", seq: 4, step: 2, promptIndex: 0, prompt: "p", output: "o" }],
      activity: [{ ...base, type: "status", seq: 0, phase: "training", step: 0, totalSteps: 10 }],
      lastMetric: null,
      trainingStart: { ...base, type: "status", seq: 0, phase: "training", step: 0, totalSteps: 10 },
      throughSeq: 4,
    });
    const events: EngineEvent[] = [
      { ...base, type: "sample", seq: 4, step: 2, promptIndex: 0, prompt: "p", output: "o" },
      { ...base, ts: 5000, type: "metric", seq: 5, step: 3, values: { loss: 2 } },
      { ...base, ts: 6000, type: "metric", seq: 6, step: 2, values: { loss: 2.4 } },
      { ...base, type: "sample", seq: 7, step: 3, promptIndex: 0, prompt: "p", output: "<think>x</think>y" },
    ];
    for (const e of events) s = applyRunEvent(s, e);
    expect(s.series.loss).toEqual([
      [1, 3],
      [2, 2.4],
      [3, 2],
    ]);
    expect(s.samples.map((x) => x.seq)).toEqual([7, 4]);
    expect(s.totalSteps).toBe(10);
    expect(s.trainingStart).toEqual({ step: 0, ts: 1000 });
    expect(s.latest).toEqual({ step: 2, ts: 6000 });
    expect(s.lastSeq).toBe(7);
  });

  it("shows training again once a metric follows a saving or evaluating status", () => {
    let s = initRunLiveState({
      series: {},
      samples: [],
      activity: [],
      lastMetric: null,
      trainingStart: null,
      throughSeq: -1,
    });
    s = applyRunEvent(s, { ...base, type: "status", seq: 1, phase: "saving", step: 100, totalSteps: 200 });
    expect(s.status?.phase).toBe("saving");
    s = applyRunEvent(s, { ...base, type: "metric", seq: 2, step: 101, values: { loss: 1 } });
    expect(s.status?.phase).toBe("training");
    expect(s.totalSteps).toBe(200);
  });
});
