"use client";
import type { EngineEvent, SampleEvent } from "@distillery/core";
import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback, useReducer, useState } from "react";
import { useRunEvents } from "../hooks/use-run-events.ts";
import {
  isActiveStatus,
  runKeys,
  useCancelRun,
  useRunDetail,
  useRunMetrics,
  useRunSamples,
} from "../hooks/use-runs.ts";
import { describeDistillation } from "../lib/distillation-form.ts";
import { formatDuration } from "../lib/launch-summary.ts";
import { runChartLines, runChartsFor } from "../lib/run-charts.ts";
import { applyRunEvent, initRunLiveState, type RunLiveState } from "../lib/run-live-state.ts";
import { estimateEtaSeconds } from "../lib/run-progress.ts";
import type { RunDetail } from "../server/get-run-detail.ts";
import type { RunMetrics } from "../server/run-metrics.ts";
import { EvalsPanel, LogsPanel } from "./activity-panels.tsx";
import { ArtifactsPanel } from "./artifacts-panel.tsx";
import { ChartControls, MetricChart } from "./metric-chart.tsx";
import { SamplesPanel } from "./sample-card.tsx";

/**
 * The run page: snapshots from the REST endpoints (downsampled curves, newest samples, logs),
 * then the SSE stream after the oldest snapshot's seq. It works the same opened mid-run, after
 * a reload, or for a finished run (whose stream replays nothing and ends at once).
 */
export function RunPage({ runId }: { runId: string }) {
  const detail = useRunDetail(runId);
  const metrics = useRunMetrics(runId);
  const samples = useRunSamples(runId);
  const error = detail.error ?? metrics.error ?? samples.error;
  if (error)
    return (
      <p className="error">
        Could not load run {runId}: {error.message}
      </p>
    );
  if (!detail.data || !metrics.data || !samples.data) return <p className="muted">Loading run…</p>;
  return <RunLiveView runId={runId} detail={detail.data} metrics={metrics.data} samples={samples.data} />;
}

function RunLiveView(props: {
  runId: string;
  detail: RunDetail;
  metrics: RunMetrics;
  samples: { samples: SampleEvent[]; throughSeq: number };
}) {
  const { runId, detail } = props;
  const client = useQueryClient();
  const [state, dispatch] = useReducer(
    (s: RunLiveState, e: EngineEvent) => applyRunEvent(s, e),
    null,
    () =>
      initRunLiveState({
        series: props.metrics.series,
        samples: props.samples.samples,
        activity: detail.activity,
        lastMetric: detail.lastMetric,
        trainingStart: detail.trainingStart,
        throughSeq: Math.min(props.metrics.throughSeq, props.samples.throughSeq, detail.throughSeq),
      }),
  );
  // the stream starts after the oldest snapshot; events the others already hold are dropped
  const [afterSeq] = useState(() =>
    Math.min(props.metrics.throughSeq, props.samples.throughSeq, detail.throughSeq),
  );
  const onEvent = useCallback(
    (e: EngineEvent) => {
      dispatch(e);
      if (e.type === "done" || e.type === "error" || (e.type === "status" && e.phase === "training")) {
        void client.invalidateQueries({ queryKey: runKeys.detail(runId) });
      }
    },
    [client, runId],
  );
  const onEnd = useCallback(
    () => void client.invalidateQueries({ queryKey: runKeys.detail(runId) }),
    [client, runId],
  );
  const streamState = useRunEvents(runId, afterSeq, onEvent, onEnd);
  const [smoothing, setSmoothing] = useState(0);
  const [isLogScale, setLogScale] = useState(false);
  const run = detail.run;
  const isActive = isActiveStatus(run.status);

  return (
    <>
      <RunHeader detail={detail} state={state} streamState={isActive ? streamState : "ended"} />
      <ChartControls
        smoothing={smoothing}
        onSmoothing={setSmoothing}
        isLogScale={isLogScale}
        onLogScale={setLogScale}
      />
      <div className="charts">
        {runChartsFor(state.series).map((c) => (
          <MetricChart
            key={c.id}
            id={c.id}
            title={c.title}
            yLabel={c.yLabel}
            fileName={`${run.name}-${c.id}`.replace(/[^\w.-]+/g, "-")}
            smoothing={c.id === "learning_rate" ? 0 : smoothing}
            isLogScale={isLogScale}
            lines={runChartLines(c, state.series)}
          />
        ))}
      </div>
      <EvalsPanel activity={state.activity} />
      <ArtifactsPanel runId={runId} status={run.status} />
      <div className="run-columns">
        <SamplesPanel samples={state.samples} />
        <LogsPanel activity={state.activity} />
      </div>
      <details className="panel">
        <summary>Config</summary>
        <pre className="mono" data-testid="run-config">
          {JSON.stringify(run.config, null, 2)}
        </pre>
      </details>
    </>
  );
}

function RunHeader({
  detail,
  state,
  streamState,
}: {
  detail: RunDetail;
  state: RunLiveState;
  streamState: string;
}) {
  const run = detail.run;
  const cancel = useCancelRun();
  const [isConfirming, setConfirming] = useState(false);
  const isActive = isActiveStatus(run.status);
  const step = state.latest?.step ?? state.status?.step ?? null;
  const total = state.totalSteps;
  const eta = isActive ? estimateEtaSeconds(state.trainingStart, state.latest, total) : null;
  const pct = step !== null && total ? Math.min(100, (step / total) * 100) : 0;
  return (
    <div className="panel run-header">
      <div className="row between">
        <div>
          <h1 data-testid="run-name">{run.name}</h1>
          <div className="row muted">
            <span className={`badge ${run.status}`} data-testid="run-status">
              {run.isCancelRequested && isActive ? "cancelling" : run.status}
            </span>
            <span>engine {run.engine}</span>
            <span>model {run.baseModel.name}</span>
            {describeDistillation(run.config) && (
              <span data-testid="run-distillation">{describeDistillation(run.config)}</span>
            )}
            <span>
              data {run.dataset.name}
              {run.dataset.version !== null ? ` v${run.dataset.version}` : ""}
            </span>
            {run.worker && <span className="mono">on {run.worker.host}</span>}
            {run.launchedBy && <span>by {run.launchedBy.name}</span>}
            <span title={run.createdAt}>{new Date(run.createdAt).toLocaleString()}</span>
            {run.interruptions > 0 && <span className="badge warn">resumed ×{run.interruptions}</span>}
            {isActive && <span className="mono">stream: {streamState}</span>}
          </div>
        </div>
        <div className="row">
          <Link href={`/evaluations?runId=${run.id}`}>Evaluations</Link>
          <Link href={`/runs/new?clone=${run.id}`}>Clone</Link>
          {isActive && !isConfirming && (
            <button
              type="button"
              className="danger"
              disabled={cancel.isPending || run.isCancelRequested}
              onClick={() => setConfirming(true)}
            >
              {run.isCancelRequested ? "Cancelling…" : "Cancel run"}
            </button>
          )}
          {isActive && isConfirming && (
            <span className="row" role="alertdialog" aria-label="Confirm cancel">
              <span>Stop this run? Training ends at the next step; checkpoints so far are kept.</span>
              <button
                type="button"
                className="danger"
                onClick={() => {
                  setConfirming(false);
                  cancel.mutate(run.id);
                }}
              >
                Yes, cancel the run
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                Keep training
              </button>
            </span>
          )}
        </div>
      </div>
      {cancel.error && <p className="error">{cancel.error.message}</p>}
      {run.error &&
        (run.status === "cancelled" ? (
          // a cancel is the person's decision, not a failure
          <p className="muted" data-testid="run-cancelled">
            {run.error}
          </p>
        ) : (
          <p className="error" data-testid="run-error">
            {run.error}
          </p>
        ))}
      <div className="progress-line">
        <div
          className="progress"
          role="progressbar"
          aria-label="Progress"
          aria-valuenow={Math.round(pct)}
          aria-valuemin={0}
          aria-valuemax={100}
        >
          <div className="progress-fill" style={{ width: `${pct}%` }} />
        </div>
        <span data-testid="run-progress">
          {isActive
            ? (state.status?.phase ?? (run.status === "queued" ? "waiting in the queue" : run.status))
            : run.status}
          {step !== null && total ? ` · step ${step}/${total}` : ""}
          {eta !== null ? ` · ETA ${formatDuration(eta)}` : ""}
        </span>
        {run.final.loss !== null && <span className="muted">final loss {run.final.loss.toPrecision(4)}</span>}
        {run.final.evalLoss !== null && (
          <span className="muted">eval loss {run.final.evalLoss.toPrecision(4)}</span>
        )}
      </div>
    </div>
  );
}
