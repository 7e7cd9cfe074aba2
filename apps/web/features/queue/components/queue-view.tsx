"use client";
import { RUN_PRIORITY_MAX, RUN_PRIORITY_MIN } from "@distillery/core";
import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { hasRole, useMe } from "@/features/auth/hooks/use-me.ts";
import { useCancelRun } from "@/features/runs/hooks/use-runs.ts";
import { queueKeys, useQueue, useSetPriority } from "../hooks/use-queue.ts";

function since(iso: string | null): string {
  if (!iso) return "";
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.round(s / 60)}m` : `${(s / 3600).toFixed(1)}h`;
}

/**
 * Runs waiting (position in their engine's queue, and why each waits) and running (on which
 * worker); cancel either; admins raise or lower a waiting run's priority.
 */
export function QueueView() {
  const { data, error, isLoading } = useQueue();
  const { data: me } = useMe();
  const isAdmin = hasRole(me, "admin");
  // members cancel their own runs, admins anyone's (the route refuses the rest with 403)
  const mayCancel = (r: { launchedBy: { id: string } | null }) =>
    isAdmin || (hasRole(me, "member") && r.launchedBy?.id === me?.user.id);
  const setPriority = useSetPriority();
  const cancel = useCancelRun();
  const client = useQueryClient();
  const onCancel = (id: string) =>
    cancel.mutate(id, { onSettled: () => client.invalidateQueries({ queryKey: queueKeys.all }) });
  if (isLoading) return <p className="muted">Loading the queue…</p>;
  if (error || !data) return <p className="error">Could not load the queue: {error?.message}</p>;
  return (
    <>
      {cancel.error && <p className="error">{cancel.error.message}</p>}
      {setPriority.error && <p className="error">{setPriority.error.message}</p>}
      <h2>Running</h2>
      <div className="panel">
        {data.running.length === 0 ? (
          <p className="empty">Nothing is running.</p>
        ) : (
          <table data-testid="queue-running">
            <thead>
              <tr>
                <th>Run</th>
                <th>Status</th>
                <th>Engine</th>
                <th>Worker</th>
                <th>Launched by</th>
                <th>Running for</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {data.running.map((r) => (
                <tr key={r.id} data-testid="queue-row">
                  <td>
                    <Link href={`/runs/${r.id}`}>{r.name}</Link>
                  </td>
                  <td>
                    <span className={`badge ${r.status}`}>
                      {r.isCancelRequested ? "cancelling" : r.status}
                    </span>
                  </td>
                  <td>{r.engine}</td>
                  <td className="mono">{r.worker ? `${r.worker.host} (${r.worker.id})` : ""}</td>
                  <td>{r.launchedBy?.name ?? ""}</td>
                  <td>{since(r.startedAt)}</td>
                  <td>
                    {mayCancel(r) && (
                      <button
                        type="button"
                        className="danger"
                        disabled={r.isCancelRequested}
                        onClick={() => onCancel(r.id)}
                      >
                        Cancel
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <h2>Waiting</h2>
      <div className="panel">
        {data.waiting.length === 0 ? (
          <p className="empty">No run is waiting.</p>
        ) : (
          <table data-testid="queue-waiting">
            <thead>
              <tr>
                <th>#</th>
                <th>Run</th>
                <th>Engine</th>
                <th>Launched by</th>
                <th>Waiting for</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {data.waiting.map((r) => (
                <tr key={r.id} data-testid="queue-row">
                  <td>#{r.position}</td>
                  <td>
                    <Link href={`/runs/${r.id}`}>{r.name}</Link>
                    {r.interruptions > 0 && <span className="badge warn"> interrupted, resumes</span>}
                    {r.priority !== 0 && <span className="badge"> priority {r.priority}</span>}
                    <div className="muted small" data-testid="wait-reason">
                      {r.waitReason}
                    </div>
                  </td>
                  <td>{r.engine}</td>
                  <td>{r.launchedBy?.name ?? ""}</td>
                  <td>{since(r.createdAt)}</td>
                  <td>
                    {isAdmin && (
                      <>
                        <button
                          type="button"
                          aria-label={`Raise the priority of ${r.name}`}
                          disabled={setPriority.isPending || r.priority >= RUN_PRIORITY_MAX}
                          onClick={() => setPriority.mutate({ runId: r.id, priority: r.priority + 1 })}
                        >
                          Raise
                        </button>{" "}
                        <button
                          type="button"
                          aria-label={`Lower the priority of ${r.name}`}
                          disabled={setPriority.isPending || r.priority <= RUN_PRIORITY_MIN}
                          onClick={() => setPriority.mutate({ runId: r.id, priority: r.priority - 1 })}
                        >
                          Lower
                        </button>{" "}
                      </>
                    )}
                    {mayCancel(r) && (
                      <button type="button" className="danger" onClick={() => onCancel(r.id)}>
                        Cancel
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
