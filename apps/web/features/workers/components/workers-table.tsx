"use client";
import { useWorkers } from "../hooks/use-workers.ts";

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

export function WorkersTable({ onlineOnly = false }: { onlineOnly?: boolean }) {
  const { data, error, isLoading } = useWorkers();
  if (isLoading) return <p className="muted">Loading workers…</p>;
  if (error) return <p className="error">Could not load workers: {error.message}</p>;
  const workers = (data ?? []).filter((w) => !onlineOnly || w.isOnline);
  if (workers.length === 0)
    return <p className="empty">No workers {onlineOnly ? "online" : "have registered yet"}.</p>;
  return (
    <table data-testid="workers-table">
      <thead>
        <tr>
          <th>Worker</th>
          <th>Status</th>
          <th>Host</th>
          <th>Engines</th>
          <th>CPU / memory</th>
          <th>GPUs</th>
          <th>Running</th>
          <th>Restarts</th>
          <th>Last heartbeat</th>
        </tr>
      </thead>
      <tbody>
        {workers.map((w) => (
          <tr key={w.id} data-testid="worker-row">
            <td className="mono">{w.id}</td>
            <td>
              <span className={`badge ${w.isOnline ? "online" : "offline"}`}>
                {w.isOnline ? "online" : "offline"}
              </span>
            </td>
            <td>
              {w.host} <span className="muted">pid {w.pid}</span>
            </td>
            <td>{w.engines.join(", ")}</td>
            <td>
              {w.cpuCount} cores · {(w.memoryMb / 1024).toFixed(1)} GiB
            </td>
            <td>
              {w.gpus.length === 0 ? (
                <span className="muted">none</span>
              ) : (
                w.gpus.map((g) => `${g.name} (${Math.round(g.memoryMb / 1024)} GiB)`).join(", ")
              )}
            </td>
            <td>
              {w.activeRuns.length === 0 ? (
                <span className="muted">idle</span>
              ) : (
                w.activeRuns.map((r) => r.name).join(", ")
              )}
            </td>
            <td data-testid="worker-restarts">
              {w.supervisor ? (
                <span title={w.supervisor.lastExitAt}>
                  {w.supervisor.restarts} · last exit {w.supervisor.lastExit}
                  {w.supervisor.lastExitAt ? ` ${ago(w.supervisor.lastExitAt)}` : ""}
                </span>
              ) : (
                <span className="muted">none</span>
              )}
            </td>
            <td title={w.lastSeenAt}>{ago(w.lastSeenAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
