"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { fetchJson } from "@/lib/client/api.ts";

interface Operation {
  summary: string;
  description: string;
  "x-permission": string;
  parameters: { name: string; in: string; required: boolean; schema: unknown }[];
  requestBody?: { content: { "application/json": { schema: unknown } } };
}
interface Doc {
  info: { title: string; description: string };
  paths: Record<string, Record<string, Operation>>;
}

export const openApiKeys = { document: () => ["openapi", "document"] as const };

/** The studio's API reference, read from GET /api/openapi.json (itself generated from the routes' zod schemas). */
export function ApiReference() {
  const doc = useQuery({
    queryKey: openApiKeys.document(),
    queryFn: () => fetchJson<Doc>("/api/openapi.json"),
  });
  const [filter, setFilter] = useState("");
  if (doc.isPending) return <p className="muted">Loading…</p>;
  if (doc.error) return <p className="warn-text">{doc.error.message}</p>;
  const ops = Object.entries(doc.data.paths)
    .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })))
    .filter((o) => o.path.includes(filter));
  return (
    <>
      <div className="row between">
        <h1>API reference</h1>
        <a href="/api/openapi.json">openapi.json</a>
      </div>
      <p className="muted">{doc.data.info.description}</p>
      <input
        aria-label="Filter paths"
        placeholder="filter paths (e.g. /api/runs)"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
      />
      {ops.map(({ path, method, op }) => (
        <details key={`${method} ${path}`} className="panel">
          <summary>
            <span className="badge mono">{method.toUpperCase()}</span> <span className="mono">{path}</span>{" "}
            <span className="muted small">{op["x-permission"]}</span>
          </summary>
          <p>{op.summary}</p>
          <p className="muted small">{op.description}</p>
          {op.parameters.length > 0 && (
            <ul>
              {op.parameters.map((p) => (
                <li key={`${p.in}:${p.name}`} className="mono small">
                  {p.in} <b>{p.name}</b>
                  {p.required ? "" : "?"} {JSON.stringify(p.schema)}
                </li>
              ))}
            </ul>
          )}
          {op.requestBody && (
            <pre className="rendered">
              {JSON.stringify(op.requestBody.content["application/json"].schema, null, 2)}
            </pre>
          )}
        </details>
      ))}
    </>
  );
}
