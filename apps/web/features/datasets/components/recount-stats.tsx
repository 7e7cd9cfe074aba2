"use client";
import { useState } from "react";
import { useDatasetJob, useStartDerive, useTokenizerModels } from "../hooks/use-datasets.ts";

/**
 * Token statistics with the tokenizer of the student you will train: pick any model of the
 * workspace that has a tokenizer.json and the version's statistics are counted again with it
 * (a dataset job; the rows are not touched).
 */
export function RecountStats(props: {
  datasetId: string;
  versionId: string;
  template: string;
  currentModelId?: string;
}) {
  const models = useTokenizerModels();
  const [modelId, setModelId] = useState("");
  const [jobId, setJobId] = useState<string | null>(null);
  const start = useStartDerive(props.datasetId, props.versionId);
  // a finished job refreshes every datasets query, the version's statistics included
  const job = useDatasetJob(jobId);
  const status = job.data?.status;
  const choices = (models.data ?? []).filter((m) => m.id !== props.currentModelId);
  return (
    <div className="row" data-testid="recount-stats">
      <div className="field">
        <label htmlFor="recount-model">Count with the student's tokenizer</label>
        <select id="recount-model" value={modelId} onChange={(e) => setModelId(e.target.value)}>
          <option value="">choose a model…</option>
          {choices.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
        </select>
      </div>
      <button
        type="button"
        disabled={!modelId || start.isPending || status === "queued" || status === "active"}
        onClick={() =>
          start.mutate(
            { op: "stats", tokenizerModelId: modelId, template: props.template },
            { onSuccess: (r) => setJobId(r.jobId) },
          )
        }
      >
        Recount
      </button>
      {status && (
        <span className="muted" data-testid="recount-status">
          {status === "failed" ? (job.data?.error ?? "failed") : status}
        </span>
      )}
      {start.error && <span className="error">{start.error.message}</span>}
    </div>
  );
}
