"use client";
import Link from "next/link";
import { useGenerations } from "../hooks/use-generations.ts";

/** Every generation job of the workspace, newest first. */
export function GenerationsList() {
  const { data, error, isLoading } = useGenerations({ refetchMs: 5_000 });
  if (isLoading) return <p className="muted">Loading…</p>;
  if (error || !data) return <p className="error">{error?.message}</p>;
  if (data.jobs.length === 0) return <p className="empty">No generation job yet.</p>;
  return (
    <div className="panel">
      <table data-testid="generations-table">
        <thead>
          <tr>
            <th>Job</th>
            <th>Status</th>
            <th>Teacher</th>
            <th>Done</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {data.jobs.map((j) => (
            <tr key={j.id}>
              <td>
                <Link href={`/generations/${j.id}`}>{j.name}</Link>
              </td>
              <td>
                <span className={`badge ${j.status}`}>{j.status}</span>
              </td>
              <td>{j.teacher ? `${j.teacher.name} (${j.teacher.model})` : "—"}</td>
              <td>
                {j.done.toLocaleString()} / {j.total.toLocaleString()}
              </td>
              <td>{new Date(j.createdAt).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
