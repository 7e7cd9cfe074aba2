"use client";
import Link from "next/link";
import { useCancelDatasetJob, useDatasetJob } from "../hooks/use-datasets.ts";
import { type ImportCoercion, ImportCoercions, shapeLabel } from "./import-summary.tsx";

interface Progress {
  rows?: number;
  badRows?: number;
  bytesRead?: number;
  totalBytes?: number | null;
  file?: string;
}
interface RowError {
  file: string;
  line: number;
  field?: string;
  reason: string;
}

/** A dataset job, polled: progress while it runs, then its outcome (counts, bad rows, versions). */
export function DatasetJobPanel({ jobId }: { jobId: string }) {
  const { data: job, error } = useDatasetJob(jobId);
  const cancel = useCancelDatasetJob(jobId);
  if (error) return <p className="error">{error.message}</p>;
  if (!job) return <p className="muted">Waiting for the job…</p>;
  const out = (job.output ?? {}) as Record<string, unknown>;
  const progress = (out.progress ?? {}) as Progress;
  const errors = (out.errors ?? []) as RowError[];
  const versions = (out.versions ?? []) as { id: string; version: number; rows: number; role: string }[];
  const datasetId = out.datasetId as string | undefined;
  const fraction =
    progress.totalBytes && progress.bytesRead ? Math.min(1, progress.bytesRead / progress.totalBytes) : null;
  const isRunning = job.status === "queued" || job.status === "active";
  const isCancelling = isRunning && (job.isCancelRequested || cancel.isPending || cancel.isSuccess);
  return (
    <div className="panel" data-testid="dataset-job">
      <div className="row">
        <strong>{job.kind}</strong>
        <span className={`badge ${job.status}`} data-testid="job-status">
          {job.status}
        </span>
        <span className="spacer" />
        {isRunning && (
          <button
            type="button"
            className="danger"
            data-testid="cancel-job"
            disabled={isCancelling}
            onClick={() => cancel.mutate()}
          >
            {isCancelling ? "Cancelling…" : "Cancel"}
          </button>
        )}
      </div>
      {cancel.error && <p className="error">{cancel.error.message}</p>}
      {isRunning && (
        <div className="progress-line">
          <div className="progress">
            <div className="progress-fill" style={{ width: `${Math.round((fraction ?? 0) * 100)}%` }} />
          </div>
          <span className="muted">
            {progress.rows ?? 0} rows{progress.badRows ? `, ${progress.badRows} bad` : ""}
          </span>
        </div>
      )}
      {job.status === "failed" && (
        <p className="error" data-testid="job-error">
          {job.error}
        </p>
      )}
      {job.status === "cancelled" && (
        <p className="muted" data-testid="job-cancelled">
          {job.error ?? "Cancelled; no version was created."}
        </p>
      )}
      {job.status === "completed" && (
        <div data-testid="job-outcome">
          {typeof out.rows === "number" && (
            <p>
              Imported <strong>{out.rows as number}</strong> rows
              {typeof out.badRows === "number" && out.badRows > 0 ? `, skipped ${out.badRows} bad rows` : ""}
              {out.shape ? (
                <>
                  {" "}
                  (shape: <span data-testid="job-shape">{shapeLabel(out.shape)}</span>)
                </>
              ) : (
                ""
              )}
              .
            </p>
          )}
          <ImportCoercions coercions={out.coercions as ImportCoercion[] | undefined} />
          {Array.isArray(out.dropped) && (
            <p>
              Dropped:{" "}
              {(out.dropped as { filter: string; rows: number }[])
                .map((d) => `${d.filter} ${d.rows}`)
                .join(", ") || "nothing"}
            </p>
          )}
          {datasetId && typeof out.versionId === "string" && (
            <Link href={`/datasets/${datasetId}/versions/${out.versionId}`} data-testid="job-version-link">
              Open v{String(out.version)}
            </Link>
          )}
          {datasetId &&
            versions.map((v) => (
              <div key={v.id}>
                <Link href={`/datasets/${datasetId}/versions/${v.id}`} data-testid="job-version-link">
                  Open v{v.version} ({v.role}, {v.rows} rows)
                </Link>
              </div>
            ))}
        </div>
      )}
      {errors.length > 0 && (
        <details className="bad-rows" open={job.status === "completed"}>
          <summary>
            {String(out.badRows ?? errors.length)} bad rows (first {errors.length})
          </summary>
          <table data-testid="bad-rows">
            <tbody>
              {errors.map((e) => (
                <tr key={`${e.file}:${e.line}`}>
                  <td className="mono">
                    {e.file}:{e.line}
                  </td>
                  <td>{e.field ?? ""}</td>
                  <td>{e.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </div>
  );
}
