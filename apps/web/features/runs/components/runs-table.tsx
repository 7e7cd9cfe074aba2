"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { type RunFilters, useRuns } from "../hooks/use-runs.ts";

const STATUSES = ["queued", "claimed", "running", "succeeded", "failed", "cancelled"];
const fmt = (v: number | null) => (v === null ? "—" : v.toPrecision(4));

/** The team's shared run history: filters, final losses, pick 2+ runs to compare. */
export function RunsTable() {
  const [filters, setFilters] = useState<RunFilters>({});
  const [selected, setSelected] = useState<string[]>([]);
  const router = useRouter();
  const { data, error, isLoading } = useRuns(filters);
  const set = (key: keyof RunFilters) => (e: React.ChangeEvent<HTMLSelectElement>) =>
    setFilters((f) => ({ ...f, [key]: e.target.value || undefined }));
  const toggle = (id: string) =>
    setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  const options = data?.options;
  return (
    <>
      <div className="row filters">
        <label className="field-inline">
          Status
          <select aria-label="Status filter" value={filters.status ?? ""} onChange={set("status")}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="field-inline">
          Engine
          <select aria-label="Engine filter" value={filters.engine ?? ""} onChange={set("engine")}>
            <option value="">any</option>
            <option>local</option>
            <option>hf</option>
          </select>
        </label>
        <label className="field-inline">
          Base model
          <select aria-label="Base model filter" value={filters.model ?? ""} onChange={set("model")}>
            <option value="">any</option>
            {options?.models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field-inline">
          Dataset
          <select
            aria-label="Dataset filter"
            value={filters.datasetVersion ?? ""}
            onChange={set("datasetVersion")}
          >
            <option value="">any</option>
            {options?.datasetVersions.map((d) => (
              <option key={d.id} value={d.id}>
                {d.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field-inline">
          Launched by
          <select
            aria-label="Launched by filter"
            value={filters.launchedBy ?? ""}
            onChange={set("launchedBy")}
          >
            <option value="">anyone</option>
            {options?.users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
        </label>
        <span className="spacer" />
        <button
          type="button"
          disabled={selected.length < 2}
          onClick={() => router.push(`/runs/compare?ids=${selected.join(",")}`)}
        >
          Compare {selected.length > 0 ? `(${selected.length})` : ""}
        </button>
      </div>
      <div className="panel">
        {isLoading ? (
          <p className="muted">Loading runs…</p>
        ) : error ? (
          <p className="error">Could not load runs: {error.message}</p>
        ) : !data || data.runs.length === 0 ? (
          <p className="empty">
            No runs{Object.values(filters).some(Boolean) ? " match these filters" : " yet"}.
          </p>
        ) : (
          <table data-testid="runs-table">
            <thead>
              <tr>
                <th />
                <th>Run</th>
                <th>Status</th>
                <th>Base model</th>
                <th>Dataset</th>
                <th>Engine</th>
                <th>Launched</th>
                <th>Final loss</th>
                <th>Eval loss</th>
              </tr>
            </thead>
            <tbody>
              {data.runs.map((r) => (
                <tr key={r.id} data-testid="run-row">
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${r.name}`}
                      checked={selected.includes(r.id)}
                      onChange={() => toggle(r.id)}
                    />
                  </td>
                  <td>
                    <Link href={`/runs/${r.id}`}>{r.name}</Link>
                    <div className="muted mono">{r.id}</div>
                  </td>
                  <td>
                    <span className={`badge ${r.status}`}>{r.status}</span>
                    {r.error && (
                      <div className={r.status === "cancelled" ? "muted" : "error"} title={r.error}>
                        {r.error.slice(0, 80)}
                      </div>
                    )}
                  </td>
                  <td>{r.baseModel.name}</td>
                  <td>
                    {r.dataset.name}
                    {r.dataset.version !== null ? ` v${r.dataset.version}` : ""}
                  </td>
                  <td>{r.engine}</td>
                  <td title={r.createdAt}>
                    {new Date(r.createdAt).toLocaleString()}
                    <div className="muted">{r.launchedBy?.name ?? ""}</div>
                  </td>
                  <td className="mono">{fmt(r.final.loss)}</td>
                  <td className="mono">{fmt(r.final.evalLoss)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
