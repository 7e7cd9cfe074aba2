"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { fetchJson } from "@/lib/client/api.ts";
import { authKeys } from "../hooks/auth-keys.ts";

interface AuditRow {
  id: string;
  at: string;
  actorEmail: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  data: unknown;
}

export function AuditLog() {
  const [action, setAction] = useState("");
  const events = useQuery({
    queryKey: authKeys.audit(action),
    queryFn: () =>
      fetchJson<{ events: AuditRow[] }>(
        `/api/audit?limit=200${action ? `&action=${encodeURIComponent(action)}` : ""}`,
      ),
  });
  return (
    <>
      <h1>Audit log</h1>
      <div className="row filters">
        <input
          aria-label="Filter by action"
          placeholder="action (e.g. run., token., auth.)"
          value={action}
          onChange={(e) => setAction(e.target.value)}
        />
      </div>
      {events.error && <p className="warn-text">{events.error.message}</p>}
      <table className="table panel" aria-label="Audit events">
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>What</th>
            <th>Target</th>
            <th>From</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {events.data?.events.map((e) => (
            <tr key={e.id}>
              <td>{new Date(e.at).toLocaleString()}</td>
              <td>{e.actorEmail ?? "—"}</td>
              <td className="mono">{e.action}</td>
              <td className="mono">{e.targetId ? `${e.targetType ?? ""} ${e.targetId}` : "—"}</td>
              <td>{e.ip ?? "—"}</td>
              <td className="mono small">{JSON.stringify(e.data)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
