import type { EngineEvent, SampleEvent } from "@distillery/core";
import { type MetricSeries, mergeSeriesPoint } from "./metric-series.ts";
import type { StepMark } from "./run-progress.ts";

type Status = Extract<EngineEvent, { type: "status" }>;

/** What the run page shows live: snapshots from the REST endpoints, advanced by SSE events. */
export interface RunLiveState {
  series: MetricSeries;
  samples: SampleEvent[];
  /** logs, status, evals, checkpoints, artifacts, done, error — in seq order */
  activity: EngineEvent[];
  status: Status | null;
  totalSteps: number | null;
  trainingStart: StepMark | null;
  latest: StepMark | null;
  /** highest seq applied */
  lastSeq: number;
}

export function initRunLiveState(input: {
  series: MetricSeries;
  samples: SampleEvent[];
  activity: EngineEvent[];
  lastMetric: EngineEvent | null;
  trainingStart: EngineEvent | null;
  throughSeq: number;
}): RunLiveState {
  let state: RunLiveState = {
    series: input.series,
    samples: [...input.samples].sort((a, b) => b.seq - a.seq),
    activity: [],
    status: null,
    totalSteps: null,
    trainingStart: null,
    latest: null,
    lastSeq: input.throughSeq,
  };
  for (const e of input.activity) state = applyActivity(state, e);
  if (input.trainingStart?.type === "status") state = { ...state, trainingStart: mark(input.trainingStart) };
  if (input.lastMetric?.type === "metric")
    state = {
      ...state,
      latest: mark(input.lastMetric),
      status: resumePhase(state.status, input.lastMetric.seq),
    };
  return state;
}

/**
 * Engines report a phase when it starts, not when it ends: a metric after "saving" or
 * "evaluating" means training went on.
 */
function resumePhase(status: Status | null, metricSeq: number): Status | null {
  if (!status || metricSeq < status.seq || (status.phase !== "saving" && status.phase !== "evaluating"))
    return status;
  return { ...status, phase: "training", message: undefined };
}

const mark = (e: { step?: number; ts: number }): StepMark | null =>
  e.step === undefined ? null : { step: e.step, ts: e.ts };

function applyActivity(state: RunLiveState, e: EngineEvent): RunLiveState {
  // snapshots and the stream overlap: an event already held changes nothing
  if (state.activity.some((a) => a.seq === e.seq)) return state;
  const next = { ...state, activity: [...state.activity, e].slice(-2000) };
  if (e.type === "status") {
    next.status = e;
    if (e.totalSteps !== undefined) next.totalSteps = e.totalSteps;
    if (e.phase === "training") next.trainingStart = mark(e);
    if (e.step !== undefined && (!next.latest || e.ts >= next.latest.ts)) next.latest = mark(e);
  }
  return next;
}

/** Applies one streamed event (pure: React may call it twice); duplicates change nothing. */
export function applyRunEvent(state: RunLiveState, e: EngineEvent): RunLiveState {
  const lastSeq = Math.max(state.lastSeq, e.seq);
  if (e.type === "metric") {
    const series = { ...state.series };
    for (const [name, value] of Object.entries(e.values)) {
      if (!Number.isFinite(value)) continue;
      series[name] = mergeSeriesPoint(series[name] ?? [], [e.step, value]);
    }
    const latest = !state.latest || e.ts >= state.latest.ts ? { step: e.step, ts: e.ts } : state.latest;
    return { ...state, series, latest, lastSeq, status: resumePhase(state.status, e.seq) };
  }
  if (e.type === "sample") {
    if (state.samples.some((x) => x.seq === e.seq)) return state;
    return { ...state, samples: [e, ...state.samples].sort((a, b) => b.seq - a.seq).slice(0, 200), lastSeq };
  }
  return { ...applyActivity(state, e), lastSeq };
}
