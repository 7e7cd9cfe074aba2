"use client";
import Link from "next/link";
import { useGenerationAction, useGenerationLive } from "../hooks/use-generations.ts";
import type { GenerationView } from "../server/generation-view.ts";

const fmt = (n: number) => n.toLocaleString();
const money = (n: number | null) => (n === null ? "—" : n < 0.01 && n > 0 ? `${n.toFixed(4)}` : n.toFixed(2));
function duration(s: number | null): string {
  if (s === null) return "—";
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${(s / 3600).toFixed(1)}h`;
}

function Figure({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="figure" data-testid={testId}>
      <div className="muted">{label}</div>
      <div className="figure-value">{value}</div>
    </div>
  );
}

/** One stored row: the prompt, the think part folded, the answer, and its verdict (all as text). */
function RowCard({ row }: { row: GenerationView["rows"][number] }) {
  return (
    <div className="sample" data-testid="generation-row">
      <div className="sample-meta row">
        <span className="mono">
          #{row.promptIndex}
          {row.sample > 0 ? `.${row.sample}` : ""}
        </span>
        {row.status === "failed" ? (
          <span className="badge failed">failed</span>
        ) : (
          <span className={`badge ${row.isVerified ? "ok" : "warn"}`}>
            {row.isVerified ? "verified" : "rejected"}
          </span>
        )}
        {row.finishReason && <span className="muted">finish: {row.finishReason}</span>}
        <span className="muted">{row.completionTokens} tokens</span>
        {row.tries > 1 && <span className="muted">{row.tries} tries</span>}
        {row.reasoningSource && <span className="muted">reasoning: {row.reasoningSource}</span>}
      </div>
      {row.prompt && <div className="sample-prompt">{row.prompt}</div>}
      {row.reasoning && (
        <details className="think">
          <summary>think ({row.reasoning.length.toLocaleString()} characters)</summary>
          <pre>{row.reasoning}</pre>
        </details>
      )}
      {row.answer !== null && <pre className="sample-answer">{row.answer}</pre>}
      {row.error && <p className="error">{row.error}</p>}
      {row.verification?.reasons && row.verification.reasons.length > 0 && (
        <p className="muted">{row.verification.reasons.join(" · ")}</p>
      )}
    </div>
  );
}

/** /generations/[jobId]: the live page of a generation job (SSE). */
export function GenerationJobPage({ jobId }: { jobId: string }) {
  const { view, error, isLive, follow } = useGenerationLive(jobId);
  const action = useGenerationAction(jobId);
  if (error && !view) return <p className="error">{error}</p>;
  if (!view) return <p className="muted">Loading…</p>;
  const isActive = ["queued", "claimed", "running"].includes(view.status);
  // the rows that failed (or, for a failed job, whatever it never stored) can be asked again
  const canRetry =
    ["succeeded", "failed", "cancelled", "paused"].includes(view.status) &&
    (view.failed > 0 || view.status === "failed");
  const pct = view.total > 0 ? Math.min(100, (view.done / view.total) * 100) : 0;
  return (
    <>
      <div className="run-header">
        <h1 data-testid="generation-title">{view.name}</h1>
        <div className="row">
          <span className={`badge ${view.status}`} data-testid="generation-status">
            {view.isCancelRequested && isActive
              ? "cancelling"
              : view.isPauseRequested && isActive
                ? "pausing"
                : view.status}
          </span>
          {view.teacher && (
            <span className="muted">
              teacher {view.teacher.name} · <span className="mono">{view.teacher.model}</span>
            </span>
          )}
          {view.interruptions > 0 && <span className="muted">resumed {view.interruptions}×</span>}
          {isLive && <span className="muted">live</span>}
          <span className="spacer" />
          {isActive && (
            <button
              type="button"
              onClick={() => action.mutate("pause")}
              disabled={view.isPauseRequested}
              data-testid="pause-generation"
            >
              Pause
            </button>
          )}
          {view.status === "paused" && (
            <button type="button" onClick={() => action.mutate("resume")} data-testid="resume-generation">
              Resume
            </button>
          )}
          {canRetry && (
            <button
              type="button"
              onClick={() => action.mutate("retry-failed", { onSuccess: follow })}
              disabled={action.isPending}
              data-testid="retry-failed-rows"
            >
              {view.failed > 0 ? `Retry ${fmt(view.failed)} failed rows` : "Retry"}
            </button>
          )}
          {(isActive || view.status === "paused") && (
            <button
              type="button"
              className="danger"
              onClick={() => action.mutate("cancel")}
              disabled={view.isCancelRequested}
              data-testid="cancel-generation"
            >
              Cancel
            </button>
          )}
        </div>
        <div className="progress-line">
          <div className="progress">
            <div className="progress-fill" style={{ width: `${pct}%` }} />
          </div>
          <span data-testid="generation-done">
            {fmt(view.done)} / {fmt(view.total)}
          </span>
          {view.etaSeconds !== null && <span className="muted">ETA {duration(view.etaSeconds)}</span>}
        </div>
      </div>
      {action.error && <p className="error">{action.error.message}</p>}
      {view.error && view.status !== "cancelled" && (
        <p className="error" data-testid="generation-failure">
          {view.error}
        </p>
      )}
      {view.result && (
        <div className="panel row" data-testid="generation-result">
          <span>
            Result:{" "}
            <Link href={`/datasets/${view.result.datasetId}/versions/${view.result.id}`}>
              dataset version v{view.result.version}
            </Link>{" "}
            ({fmt(view.result.rowCount)} rows)
          </span>
          <Link
            className="button"
            href={`/runs/new?datasetVersionId=${encodeURIComponent(view.result.id)}`}
            data-testid="use-result-in-run"
          >
            Use in a new run
          </Link>
        </div>
      )}
      <div className="figures panel">
        <Figure
          label="accepted"
          value={`${fmt(view.accepted)}${view.acceptedRate !== null ? ` (${Math.round(view.acceptedRate * 100)}%)` : ""}`}
          testId="generation-accepted"
        />
        <Figure label="failed" value={fmt(view.failed)} />
        <Figure label="truncated · duplicates" value={`${fmt(view.truncated)} · ${fmt(view.duplicates)}`} />
        <Figure label="tokens in / out" value={`${fmt(view.tokensIn)} / ${fmt(view.tokensOut)}`} />
        <Figure label="reasoning tokens" value={fmt(view.reasoningTokens)} />
        <Figure label="tokens/s" value={view.tokensPerS.toFixed(0)} />
        <Figure label="in flight" value={String(view.inFlight)} />
        <Figure label="retries" value={fmt(view.retries)} />
        <Figure
          label="cost so far · estimated"
          value={`${money(view.costSoFar)} · ${money(view.costEstimated)}`}
        />
      </div>
      {view.lastError && isActive && <p className="muted">last retry: {view.lastError}</p>}
      <h2>Newest rows</h2>
      <div className="panel samples" data-testid="generation-rows">
        {view.rows.length === 0 ? (
          <p className="empty">No row yet.</p>
        ) : (
          view.rows.map((r) => <RowCard key={r.id} row={r} />)
        )}
      </div>
    </>
  );
}
