"use client";
import type { RunConfig } from "@distillery/core";
import {
  computeLaunchSummary,
  expectedThroughput,
  formatCount,
  formatDuration,
} from "../lib/launch-summary.ts";
import type { ModelShape } from "../lib/model-shapes.ts";
import type { SequenceFit } from "../lib/sequence-fit.ts";
import { computeTeacherCost, formatBytes, type ModelSize, parametersOf } from "../lib/teacher-cost.ts";

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
  throughput: {
    tokensPerSecond: number;
    runs: number;
    parameterTokensPerSecond?: number | null;
    sizedRuns?: number;
  } | null;
  fit?: SequenceFit;
  /** the base model's and the teacher's sizes (distillation modes with a teacher) */
  student?: ModelSize | null;
  teacher?: (ModelSize & { name: string }) | null;
  /** the stored teacher-logits artifact the run reads instead of loading the teacher */
  artifact?: StoredLogits | null;
}) {
  if (!props.config) return <p className="muted">Fix the fields marked in red to see the summary.</p>;
  const expected = expectedThroughput(props.throughput, parametersOf(props.student ?? null));
  const s = computeLaunchSummary({
    config: props.config,
    shape: props.shape,
    dataset: props.dataset
      ? { rows: props.dataset.rows, meanTokens: props.dataset.meanTokens ?? undefined }
      : null,
    tokensPerSecond: expected?.tokensPerSecond ?? null,
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
      {props.config.distillation.mode !== "sft" && props.config.distillation.teacherLogits ? (
        <StoredLogitsRow
          artifactId={props.config.distillation.teacherLogits.artifactId}
          artifact={props.artifact ?? null}
        />
      ) : (
        props.config.distillation.mode !== "sft" && (
          <TeacherCostRow
            config={props.config}
            student={props.student ?? null}
            teacher={props.teacher ?? null}
            estimatedSeconds={s.estimatedSeconds}
          />
        )
      )}
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
              at {formatCount(s.tokensPerSecond ?? 0)} tokens/s (
              {expected?.isScaled
                ? `past ${props.config.engine} runs' speed scaled to this model's size, median of ${expected.runs}`
                : `median of ${expected?.runs} past ${props.config.engine} runs`}
              )
            </span>
          </>
        ) : (
          <span className="muted">no {props.config.engine} run has measured throughput yet</span>
        )}
      </dd>
    </dl>
  );
}

export interface StoredLogits {
  id: string;
  teacherName: string;
  k: number;
  bytes: number;
  positions: number | null;
  status: string;
}

/**
 * A run reading stored teacher logits does not load the teacher: no teacher weights in memory and
 * no teacher forward per step; it reads the artifact (its size) instead.
 */
function StoredLogitsRow(props: { artifactId: string; artifact: StoredLogits | null }) {
  const a = props.artifact;
  return (
    <>
      <dt>Teacher</dt>
      <dd data-testid="summary-teacher">
        stored teacher logits <span className="mono">{props.artifactId}</span>
        {a ? (
          <>
            {" "}
            ({a.teacherName}, top-{a.k}
            {a.positions !== null && `, ${formatCount(a.positions)} positions`}):{" "}
            {a.bytes > 0 ? `${formatBytes(a.bytes)} read from storage` : `size not known yet (${a.status})`}
          </>
        ) : (
          <span className="muted"> (loading its size…)</span>
        )}
        <span className="muted">
          {" "}
          · the teacher is not loaded: no teacher memory and no teacher forward in the steps
        </span>
      </dd>
    </>
  );
}

/** The teacher's weights and compute, next to the student's: what a distillation run adds. */
function TeacherCostRow(props: {
  config: RunConfig;
  student: ModelSize | null;
  teacher: (ModelSize & { name: string }) | null;
  /** the run's estimate from measured throughput, without the teacher */
  estimatedSeconds: number | null;
}) {
  const c = computeTeacherCost(props);
  const where = props.config.engine === "local" ? "float32 on the CPU worker" : "bf16 on the GPU";
  return (
    <>
      <dt>Teacher</dt>
      <dd data-testid="summary-teacher">
        {!props.teacher ? (
          <span className="muted">pick the teacher model</span>
        ) : c.teacherParameters === null ? (
          <>
            {props.teacher.name} <span className="muted">(size unknown: no parameter count or shape)</span>
          </>
        ) : (
          <>
            {props.teacher.name}: {formatCount(c.teacherParameters)} parameters,{" "}
            {formatBytes(c.teacherBytes ?? 0)} of weights ({where})
            {c.studentParameters !== null && (
              <span className="muted">
                {" "}
                · student {formatCount(c.studentParameters)} parameters, {formatBytes(c.studentBytes ?? 0)}
                {c.sizeRatio !== null && ` · teacher ${formatRatio(c.sizeRatio)} the student`}
                {c.extraComputeShare !== null &&
                  ` · its forward adds about ${Math.round(c.extraComputeShare * 100)}% to each step's compute (2·teacher vs 6·student FLOPs per token)`}
                {c.extraComputeShare !== null &&
                  props.estimatedSeconds !== null &&
                  `, so about ${formatDuration(props.estimatedSeconds * (1 + c.extraComputeShare))} in all${props.config.distillation.mode === "on-policy" ? " before the student's sampling" : ""}`}
              </span>
            )}
          </>
        )}
      </dd>
    </>
  );
}

const formatRatio = (r: number) => `${Number(r.toFixed(r >= 10 ? 0 : r >= 1 ? 1 : 2))}×`;
