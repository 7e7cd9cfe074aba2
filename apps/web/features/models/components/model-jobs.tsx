"use client";
import { useModelJobs } from "../hooks/use-models.ts";
import { formatBytes } from "../lib/format-model.ts";

const SOURCE_LABEL = { hub: "Hub download", upload: "upload", path: "path" } as Record<string, string>;

/** Model jobs in flight and recently ended, with bytes and files for downloads. */
export function ModelJobs() {
  const jobs = useModelJobs();
  const shown = (jobs.data ?? []).filter(
    (j) => j.status !== "completed" || Date.now() - Date.parse(j.finishedAt ?? j.createdAt) < 10 * 60_000,
  );
  if (shown.length === 0) return null;
  return (
    <section className="panel" aria-labelledby="model-jobs">
      <h2 id="model-jobs" className="panel-title">
        Adding
      </h2>
      <table>
        <tbody>
          {shown.map((j) => {
            const p = j.output?.progress;
            const pct =
              p && p.bytesTotal > 0 ? (p.bytesDone / p.bytesTotal) * 100 : j.status === "completed" ? 100 : 0;
            return (
              <tr key={j.id} data-testid="model-job">
                <td>
                  {j.input.name}
                  <div className="muted small">
                    {SOURCE_LABEL[j.input.source.kind] ?? j.input.source.kind}{" "}
                    {j.input.source.repoId ?? j.input.source.path ?? ""}
                  </div>
                </td>
                <td>
                  <span className={`badge ${j.status}`} data-testid="model-job-status">
                    {j.status}
                  </span>
                </td>
                <td style={{ width: "45%" }}>
                  <div
                    className="progress"
                    role="progressbar"
                    aria-valuenow={Math.round(pct)}
                    aria-valuemin={0}
                    aria-valuemax={100}
                  >
                    <div className="progress-fill" style={{ width: `${pct}%` }} />
                  </div>
                  {p && (
                    <div className="muted small">
                      {formatBytes(p.bytesDone)} of {formatBytes(p.bytesTotal)} · file{" "}
                      {Math.min(p.filesDone + 1, p.filesTotal)}/{p.filesTotal}{" "}
                      {j.status === "active" ? p.file : ""}
                    </div>
                  )}
                  {j.error && (
                    <div className="error" data-testid="model-job-error">
                      {j.error}
                    </div>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
