"use client";
import { type FormEvent, useState } from "react";
import { ApiError } from "@/lib/client/api.ts";
import { useCreateEchoJob, useJobs } from "../hooks/use-echo-jobs.ts";

/** Sends a message through the whole stack (web → queue → worker → Postgres → web). */
export function EchoPanel() {
  const [message, setMessage] = useState("");
  const create = useCreateEchoJob();
  const jobs = useJobs();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ message }, { onSuccess: () => setMessage("") });
  };
  const fieldError = create.error instanceof ApiError ? create.error.fieldError("body.message") : undefined;
  return (
    <div className="panel">
      <h2 style={{ marginTop: 0 }}>Echo job</h2>
      <form onSubmit={submit} className="row">
        <input
          aria-label="Echo message"
          placeholder="A message for a worker"
          value={message}
          onChange={(e) => setMessage(e.target.value)}
          style={{ flex: 1, minWidth: 240 }}
        />
        <button type="submit" disabled={create.isPending}>
          Send echo job
        </button>
      </form>
      {fieldError ? (
        <p className="error">{fieldError}</p>
      ) : create.error ? (
        <p className="error">{create.error.message}</p>
      ) : null}
      <table style={{ marginTop: 12 }} data-testid="jobs-table">
        <thead>
          <tr>
            <th>Job</th>
            <th>Status</th>
            <th>Message</th>
            <th>Result</th>
            <th>Worker</th>
          </tr>
        </thead>
        <tbody>
          {(jobs.data ?? []).map((j) => (
            <tr key={j.id} data-testid="job-row">
              <td className="mono">{j.id}</td>
              <td>
                <span className={`badge ${j.status}`}>{j.status}</span>
              </td>
              <td>{String((j.input as { message?: string }).message ?? "")}</td>
              <td className="mono">
                {j.output ? String((j.output as { reversed?: string }).reversed ?? "") : (j.error ?? "")}
              </td>
              <td className="mono">{j.workerId ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
