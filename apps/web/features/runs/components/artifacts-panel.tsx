"use client";
import { useQuery } from "@tanstack/react-query";
import { fetchJson } from "@/lib/client/api.ts";
import { formatBytes } from "../../models/lib/format-model.ts";
import { isActiveStatus, runKeys } from "../hooks/use-runs.ts";
import type { RunArtifacts } from "../server/run-artifacts.ts";

const KIND_LABELS: Record<string, string> = {
  adapter: "LoRA adapter (PEFT)",
  merged: "Merged model (safetensors)",
  model: "Trained model (safetensors)",
  onnx: "ONNX export",
  tokenizer: "Tokenizer",
  report: "Report",
};

/** What a run produced, with sizes; each downloads streamed (a folder as a .tar). */
export function ArtifactsPanel({ runId, status }: { runId: string; status: string }) {
  const artifacts = useQuery({
    queryKey: [...runKeys.detail(runId), "artifacts"],
    queryFn: () => fetchJson<RunArtifacts>(`/api/runs/${encodeURIComponent(runId)}/artifacts`),
    refetchInterval: isActiveStatus(status) ? 5_000 : false,
  });
  const data = artifacts.data;
  return (
    <div className="panel" data-testid="artifacts">
      <h2 className="panel-title">Artifacts</h2>
      {artifacts.error && <p className="error">Could not list artifacts: {artifacts.error.message}</p>}
      {data && data.artifacts.length === 0 && data.checkpoints.length === 0 && (
        <p className="muted">
          {isActiveStatus(status)
            ? "Nothing yet: checkpoints and the trained model appear here as they are written."
            : "This run left no artifacts."}
        </p>
      )}
      {data && (data.artifacts.length > 0 || data.checkpoints.length > 0) && (
        <table>
          <thead>
            <tr>
              <th>Artifact</th>
              <th>Files</th>
              <th>Size</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.artifacts.map((a) => (
              <tr key={a.id} data-testid="artifact-row">
                <td>
                  {KIND_LABELS[a.kind] ?? a.kind}
                  <div className="muted small mono">{a.name}</div>
                </td>
                <td>{a.files}</td>
                <td>{formatBytes(a.bytes)}</td>
                <td>
                  <a href={a.downloadUrl} download data-testid={`download-${a.kind}`}>
                    Download{a.isFolder ? " (.tar)" : ""}
                  </a>
                </td>
              </tr>
            ))}
            {data.checkpoints.map((c) => (
              <tr key={c.name} data-testid="checkpoint-row">
                <td>
                  Checkpoint at step {c.step.toLocaleString("en-US")}
                  <div className="muted small mono">{c.name}</div>
                </td>
                <td>{c.files}</td>
                <td>{formatBytes(c.bytes)}</td>
                <td>
                  <a href={c.downloadUrl} download>
                    Download (.tar)
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
