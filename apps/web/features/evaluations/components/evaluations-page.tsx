"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useEvaluationAction, useEvaluations } from "../hooks/use-evaluations.ts";
import { formatPercent } from "../lib/format.ts";
import { NewEvaluationForm } from "./new-evaluation-form.tsx";

/** Every evaluation of the workspace (or of one run), live, with a picker for side by side. */
export function EvaluationsPage({ runId }: { runId?: string }) {
  const list = useEvaluations(runId);
  const action = useEvaluationAction();
  const router = useRouter();
  const [selected, setSelected] = useState<string[]>([]);
  const toggle = (id: string) =>
    setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : s.length < 4 ? [...s, id] : s));
  return (
    <>
      <NewEvaluationForm runId={runId} onCreated={(ids) => setSelected(ids.slice(0, 4))} />
      <div className="row between filters">
        <span className="muted">{runId ? `Evaluations of run ${runId}` : "All evaluations"}</span>
        <Link
          className="button"
          aria-disabled={selected.length === 0}
          href={`/evaluations/compare?ids=${selected.join(",")}`}
          onClick={(e) => {
            if (selected.length === 0) e.preventDefault();
          }}
        >
          Compare selected ({selected.length})
        </Link>
      </div>
      <table aria-label="Evaluations">
        <thead>
          <tr>
            <th />
            <th>Name</th>
            <th>Model</th>
            <th>Status</th>
            <th>Progress</th>
            <th>Accuracy</th>
            <th>pass@1</th>
            <th>cons@k</th>
            <th>Think format</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((e) => (
            <tr key={e.id}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`select ${e.name}`}
                  checked={selected.includes(e.id)}
                  onChange={() => toggle(e.id)}
                />
              </td>
              <td>
                <Link href={`/evaluations/compare?ids=${e.id}`}>{e.name}</Link>
                {e.runId && (
                  <div className="muted">
                    run <Link href={`/runs/${e.runId}`}>{e.runId}</Link>
                    {e.phase ? ` · ${e.phase}` : ""}
                  </div>
                )}
              </td>
              <td className="mono">{e.model}</td>
              <td>
                <span className={`badge ${e.status}`}>{e.status}</span>
                {e.error && <div className="error">{e.error}</div>}
              </td>
              <td>
                {e.done}/{e.total || "?"}
              </td>
              <td>{e.metrics ? formatPercent(e.metrics.accuracy) : "—"}</td>
              <td>{e.metrics ? formatPercent(e.metrics.pass_at_1) : "—"}</td>
              <td>{e.metrics ? formatPercent(e.metrics.cons_at_k) : "—"}</td>
              <td>{e.metrics ? formatPercent(e.metrics.format_compliance) : "—"}</td>
              <td>
                {(e.status === "queued" || e.status === "running") && (
                  <button
                    type="button"
                    className="danger"
                    onClick={() => action.mutate({ id: e.id, action: "cancel" })}
                  >
                    Cancel
                  </button>
                )}
                {(e.status === "cancelled" || e.status === "failed") && e.hasExamples && (
                  <button type="button" onClick={() => action.mutate({ id: e.id, action: "resume" })}>
                    Resume
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data?.length === 0 && <p className="empty">No evaluations yet.</p>}
      {selected.length > 0 && (
        <p className="muted">
          <button type="button" onClick={() => router.push(`/evaluations/compare?ids=${selected.join(",")}`)}>
            Open side by side
          </button>
        </p>
      )}
    </>
  );
}
