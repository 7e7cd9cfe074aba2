"use client";
import type { EngineEvent } from "@distillery/core";
import { formatNumber } from "../lib/chart-ticks.ts";
import { EVAL_METRIC_LABELS } from "../lib/run-form-fields.ts";

type Eval = Extract<EngineEvent, { type: "eval" }>;

/** metrics that are shares of problems or samples read as percentages */
const SHARE_METRICS = new Set(["accuracy", "pass_at_1", "cons_at_k", "format_compliance", "answered"]);

export function formatEvalValue(metric: string, v: number): string {
  if (SHARE_METRICS.has(metric) && v >= 0 && v <= 1) return `${Number((v * 100).toFixed(1))}%`;
  return formatNumber(v);
}

const time = (ts: number) => new Date(ts).toLocaleTimeString();

/** The engine's and worker's log lines, newest last (text only). */
export function LogsPanel({ activity }: { activity: EngineEvent[] }) {
  const lines = activity.filter(
    (e) =>
      e.type === "log" ||
      e.type === "error" ||
      e.type === "checkpoint" ||
      e.type === "artifact" ||
      e.type === "status",
  );
  return (
    <div className="panel">
      <h2 className="panel-title">Logs</h2>
      {lines.length === 0 ? (
        <p className="empty">No log lines yet.</p>
      ) : (
        <div className="logs mono" data-testid="logs">
          {lines.slice(-300).map((e) => (
            <div
              key={e.seq}
              className={`log-line ${e.type === "error" || (e.type === "log" && e.level === "error") ? "bad" : e.type === "log" && e.level === "warn" ? "warn" : ""}`}
            >
              <span className="muted">{time(e.ts)} </span>
              {describe(e)}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

function describe(e: EngineEvent): string {
  switch (e.type) {
    case "log":
      return `[${e.level}] ${e.message}`;
    case "error":
      return `[error${e.code ? ` ${e.code}` : ""}] ${e.field ? `${e.field}: ` : ""}${e.message}${e.hint ? ` (${e.hint})` : ""}`;
    case "checkpoint":
      return `checkpoint at step ${e.step}: ${e.path}`;
    case "artifact":
      return `artifact ${e.kind}: ${e.path}`;
    case "status":
      return `${e.phase}${e.step !== undefined ? ` · step ${e.step}${e.totalSteps ? `/${e.totalSteps}` : ""}` : ""}${e.message ? ` · ${e.message}` : ""}`;
    default:
      return e.type;
  }
}

/** Before/after evaluation: one column per eval event name, one row per metric. */
export function EvalsPanel({ activity }: { activity: EngineEvent[] }) {
  const byName = new Map<string, Eval>();
  for (const e of activity) if (e.type === "eval") byName.set(e.name, e);
  if (byName.size === 0) return null;
  const evals = [...byName.values()];
  const metrics = [...new Set(evals.flatMap((e) => Object.keys(e.metrics)))];
  return (
    <div className="panel" data-testid="evals">
      <h2 className="panel-title">Evaluation</h2>
      <table>
        <thead>
          <tr>
            <th>Metric</th>
            {evals.map((e) => (
              <th key={e.name}>{e.name}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {metrics.map((m) => (
            <tr key={m}>
              <td title={m}>{EVAL_METRIC_LABELS[m] ?? m}</td>
              {evals.map((e) => (
                <td key={e.name} className="mono">
                  {e.metrics[m] === undefined ? "—" : formatEvalValue(m, e.metrics[m] as number)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
