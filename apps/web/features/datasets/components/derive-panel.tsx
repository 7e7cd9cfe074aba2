"use client";
import { useState } from "react";
import type { ApiError } from "@/lib/client/api.ts";
import { useStartDerive } from "../hooks/use-datasets.ts";
import { DatasetJobPanel } from "./dataset-job-panel.tsx";

interface FilterForm {
  maxTokens: string;
  dedupe: "" | "exact" | "normalized";
  dropMissing: boolean;
  dropUnclosed: boolean;
  answerMatch: boolean;
  include: string;
  exclude: string;
  sample: string;
}

function toFilters(f: FilterForm): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  if (f.maxTokens) out.push({ type: "maxTokens", max: Number(f.maxTokens) });
  if (f.dedupe) out.push({ type: "dedupe", mode: f.dedupe });
  const drop = [...(f.dropMissing ? ["missing"] : []), ...(f.dropUnclosed ? ["unclosed"] : [])];
  if (drop.length) out.push({ type: "think", drop });
  if (f.answerMatch) out.push({ type: "answerMatch" });
  if (f.include) out.push({ type: "regex", pattern: f.include, action: "include" });
  if (f.exclude) out.push({ type: "regex", pattern: f.exclude, action: "exclude" });
  if (f.sample) out.push({ type: "sample", n: Number(f.sample) });
  return out;
}

/** Filter and split: each starts a job that writes new immutable versions (parent = this one). */
export function DerivePanel(props: {
  datasetId: string;
  versionId: string;
  template: string;
  tokenizerModelId?: string;
}) {
  const derive = useStartDerive(props.datasetId, props.versionId);
  const [jobId, setJobId] = useState<string | null>(null);
  const [form, setForm] = useState<FilterForm>({
    maxTokens: "",
    dedupe: "",
    dropMissing: false,
    dropUnclosed: false,
    answerMatch: false,
    include: "",
    exclude: "",
    sample: "",
  });
  const [testPercent, setTestPercent] = useState("10");
  const [seed, setSeed] = useState("42");
  const common = {
    template: props.template,
    ...(props.tokenizerModelId ? { tokenizerModelId: props.tokenizerModelId } : {}),
  };
  const filters = toFilters(form);
  const error = derive.error as ApiError | null;
  const set = <K extends keyof FilterForm>(k: K, v: FilterForm[K]) => setForm({ ...form, [k]: v });
  return (
    <div className="grid">
      <div className="panel" data-testid="filter-panel">
        <h2 className="panel-title">Filter → new version</h2>
        <div className="mapping-grid">
          <div className="field">
            <label htmlFor="f-max">Max tokens</label>
            <input
              id="f-max"
              type="number"
              min={1}
              value={form.maxTokens}
              onChange={(e) => set("maxTokens", e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="f-dedupe">Dedupe prompts</label>
            <select
              id="f-dedupe"
              value={form.dedupe}
              onChange={(e) => set("dedupe", e.target.value as FilterForm["dedupe"])}
            >
              <option value="">no</option>
              <option value="exact">exact</option>
              <option value="normalized">normalized</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="f-include">Keep rows matching (regex)</label>
            <input id="f-include" value={form.include} onChange={(e) => set("include", e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="f-exclude">Drop rows matching (regex)</label>
            <input id="f-exclude" value={form.exclude} onChange={(e) => set("exclude", e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="f-sample">Sample N rows</label>
            <input
              id="f-sample"
              type="number"
              min={1}
              value={form.sample}
              onChange={(e) => set("sample", e.target.value)}
            />
          </div>
        </div>
        <div className="row">
          <label>
            <input
              type="checkbox"
              checked={form.dropMissing}
              onChange={(e) => set("dropMissing", e.target.checked)}
            />{" "}
            Drop rows without &lt;think&gt;
          </label>
          <label>
            <input
              type="checkbox"
              checked={form.dropUnclosed}
              onChange={(e) => set("dropUnclosed", e.target.checked)}
            />{" "}
            Drop unclosed &lt;think&gt;
          </label>
          <label>
            <input
              type="checkbox"
              checked={form.answerMatch}
              onChange={(e) => set("answerMatch", e.target.checked)}
            />{" "}
            Answer agrees with reference
          </label>
        </div>
        <button
          type="button"
          disabled={filters.length === 0 || derive.isPending}
          onClick={() =>
            derive.mutate({ op: "filter", filters, ...common }, { onSuccess: (r) => setJobId(r.jobId) })
          }
        >
          Apply filters
        </button>
      </div>
      <div className="panel" data-testid="split-panel">
        <h2 className="panel-title">Split train/test → two versions</h2>
        <div className="mapping-grid">
          <div className="field">
            <label htmlFor="s-test">Test %</label>
            <input
              id="s-test"
              type="number"
              min={1}
              max={99}
              value={testPercent}
              onChange={(e) => setTestPercent(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="s-seed">Seed</label>
            <input id="s-seed" type="number" value={seed} onChange={(e) => setSeed(e.target.value)} />
          </div>
        </div>
        <button
          type="button"
          disabled={derive.isPending}
          onClick={() =>
            derive.mutate(
              { op: "split", testFraction: Number(testPercent) / 100, seed: Number(seed), ...common },
              { onSuccess: (r) => setJobId(r.jobId) },
            )
          }
        >
          Split
        </button>
      </div>
      {error && <p className="error">{error.message}</p>}
      {jobId && <DatasetJobPanel key={jobId} jobId={jobId} />}
    </div>
  );
}
