"use client";
import Link from "next/link";
import { useDataset } from "../hooks/use-datasets.ts";
import { describeOperation } from "./describe-operation.ts";

/** /datasets/[datasetId]: every version with its lineage and the operation that made it. */
export function DatasetPage({ datasetId }: { datasetId: string }) {
  const { data, error } = useDataset(datasetId);
  if (error) return <p className="error">{error.message}</p>;
  if (!data) return <p className="muted">Loading…</p>;
  const byId = new Map(data.versions.map((v) => [v.id, v]));
  return (
    <>
      <div className="row between">
        <h1>{data.name}</h1>
        <Link className="button" href="/datasets/new">
          Import another
        </Link>
      </div>
      <div className="panel">
        <table data-testid="versions-table">
          <thead>
            <tr>
              <th>Version</th>
              <th>From</th>
              <th>Operation</th>
              <th>Rows</th>
              <th>Tokenizer</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {data.versions.map((v) => {
              const parent = v.parentId ? byId.get(v.parentId) : undefined;
              const tok = v.tokenizer as { kind?: string; modelName?: string } | null;
              return (
                <tr key={v.id} data-testid="version-row">
                  <td>
                    <Link href={`/datasets/${data.id}/versions/${v.id}`}>v{v.version}</Link>
                  </td>
                  <td>{parent ? `v${parent.version}` : v.parentId ? "(removed)" : "—"}</td>
                  <td>{describeOperation(v.operation)}</td>
                  <td>{v.rowCount.toLocaleString()}</td>
                  <td className="muted">
                    {tok?.kind === "model" ? tok.modelName : tok?.kind === "bytes" ? "bytes" : "—"}
                  </td>
                  <td className="muted">{new Date(v.createdAt).toLocaleString()}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
