"use client";
import Link from "next/link";
import { useDatasets } from "../hooks/use-datasets.ts";

export function DatasetsTable() {
  const { data, error, isLoading } = useDatasets();
  if (error) return <p className="error">{error.message}</p>;
  if (isLoading) return <p className="muted">Loading…</p>;
  if (!data?.length)
    return (
      <p className="empty">
        No datasets yet. <Link href="/datasets/new">Import one</Link>.
      </p>
    );
  return (
    <table data-testid="datasets-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Versions</th>
          <th>Rows (latest)</th>
          <th>Updated</th>
          <th>Created by</th>
        </tr>
      </thead>
      <tbody>
        {data.map((d) => (
          <tr key={d.id} data-testid="dataset-row">
            <td>
              <Link href={`/datasets/${d.id}`}>{d.name}</Link>
            </td>
            <td>{d.versions}</td>
            <td>{d.rows.toLocaleString()}</td>
            <td className="muted">{new Date(d.updatedAt).toLocaleString()}</td>
            <td className="muted">{d.createdBy ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
