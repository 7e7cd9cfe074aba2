"use client";
import type { RunConfig } from "@distillery/core";
import { computeLaunchSummary, formatCount, formatDuration } from "../lib/launch-summary.ts";
import type { ModelShape } from "../lib/model-shapes.ts";
import type { SequenceFit } from "../lib/sequence-fit.ts";

const percent = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;

/** "3 epochs × 4 steps", or "max steps; 4 per epoch, 2.5 passes": the length as the config decides it. */
export function describeLength(
  s: { stepsPerEpoch: number; epochs: number },
  maxSteps: number,
  epochs: number,
) {
  const passes = Number(s.epochs.toFixed(2));
  return maxSteps > 0
    ? `set by max steps; ${s.stepsPerEpoch} per epoch, so ${passes} ${passes === 1 ? "pass" : "passes"} over the data`
    : `${epochs} ${epochs === 1 ? "epoch" : "epochs"} × ${s.stepsPerEpoch} per epoch`;
}

/** What the run will cost, shown before launch (computed from the parsed config). */
export function LaunchSummaryPanel(props: {
  config: RunConfig | null;
  shape: ModelShape | null;
  dataset: { rows: number; meanTokens: number | null } | null;
  throughput: { tokensPerSecond: number; runs: number } | null;
  fit?: SequenceFit;
}) {
  if (!props.config) return <p className="muted">Fix the fields marked in red to see the summary.</p>;
  const s = computeLaunchSummary({
    config: props.config,
    shape: props.shape,
    dataset: props.dataset
      ? { rows: props.dataset.rows, meanTokens: props.dataset.meanTokens ?? undefined }
      : null,
    tokensPerSecond: props.throughput?.tokensPerSecond ?? null,
  });
  return (
    <dl className="summary" data-testid="launch-summary">
      <dt>Trainable parameters</dt>
      <dd data-testid="summary-trainable">
        {s.trainableParameters === null ? (
          <span className="muted">unknown model shape</span>
        ) : (
          formatCount(s.trainableParameters)
        )}
        {s.trainableParameters !== null && props.config.lora.method === "lora" && (
          <span className="muted">
            {" "}
            (LoRA r{props.config.lora.r} on {props.config.lora.targetModules.length} modules)
          </span>
        )}
      </dd>
      <dt>Tokens per epoch</dt>
      <dd data-testid="summary-tokens">
        {props.dataset ? (
          formatCount(s.tokensPerEpoch)
        ) : (
          <span className="muted">pick a dataset version</span>
        )}
        {props.dataset && s.isTokensAssumed && (
          <span className="muted"> (no token stats: assumes 256 per row)</span>
        )}
        {props.dataset && <span className="muted"> · {formatCount(s.trainRows)} training rows</span>}
      </dd>
      <dt>Optimizer steps</dt>
      <dd data-testid="summary-steps">
        {props.dataset ? formatCount(s.optimizerSteps) : "—"}
        {props.dataset && (
          <span className="muted">
            {" "}
            ({describeLength(s, props.config.training.maxSteps, props.config.training.epochs)})
          </span>
        )}
      </dd>
      <dt>Sequence length</dt>
      <dd data-testid="summary-truncation">
        {props.config.training.maxSeqLength} tokens
        {props.fit?.error ? (
          <span className="error"> · {props.fit.error}</span>
        ) : props.fit?.truncatedShare === null || props.fit?.truncatedShare === undefined ? (
          <span className="muted"> · no token statistics to check it against</span>
        ) : props.fit.truncatedShare === 0 ? (
          <span className="muted"> · every row fits</span>
        ) : (
          <span className="warn-text">
            {" "}
            · {percent(props.fit.truncatedShare)} of rows truncated
            {props.fit.answerLostShare ? `, ${percent(props.fit.answerLostShare)} with no answer left` : ""}
          </span>
        )}
      </dd>
      <dt>Estimated duration</dt>
      <dd data-testid="summary-duration">
        {s.estimatedSeconds !== null ? (
          <>
            {formatDuration(s.estimatedSeconds)}
            <span className="muted">
              {" "}
              at {formatCount(s.tokensPerSecond ?? 0)} tokens/s (median of {props.throughput?.runs} past{" "}
              {props.config.engine} runs)
            </span>
          </>
        ) : (
          <span className="muted">no {props.config.engine} run has measured throughput yet</span>
        )}
      </dd>
    </dl>
  );
}
