"use client";
import Link from "next/link";
import { useGenerations } from "../hooks/use-generations.ts";

const ACTIVE = new Set(["queued", "claimed", "running", "paused"]);

/** Generation jobs next to runs on the team queue: running, waiting and paused ones. */
export function GenerationsQueuePanel() {
  const { data, error } = useGenerations();
  if (error) return <p className="error">Could not load generation jobs: {error.message}</p>;
  const jobs = (data?.jobs ?? []).filter((j) => ACTIVE.has(j.status));
  return (
    <>
      <h2>Generation jobs</h2>
      <div className="panel">
        {jobs.length === 0 ? (
          <p className="empty">No generation job is running or waiting.</p>
        ) : (
          <table data-testid="queue-generations">
            <thead>
              <tr>
                <th>Job</th>
                <th>Status</th>
                <th>Teacher</th>
                <th>Done</th>
                <th>Worker</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr key={j.id} data-testid="queue-generation-row">
                  <td>
                    <Link href={`/generations/${j.id}`}>{j.name}</Link>
                  </td>
                  <td>
                    <span className={`badge ${j.status}`}>
                      {j.isCancelRequested ? "cancelling" : j.status}
                    </span>
                  </td>
                  <td>{j.teacher ? `${j.teacher.name} (${j.teacher.model})` : "—"}</td>
                  <td>
                    {j.done.toLocaleString()} / {j.total.toLocaleString()}
                  </td>
                  <td className="mono">{j.claimedById ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
