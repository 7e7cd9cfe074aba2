"use client";
import { useState } from "react";
import { useDatasetVersions, useRuns } from "@/features/runs/hooks/use-runs.ts";
import { ApiError } from "@/lib/client/api.ts";
import { useCreateEvaluations, useServedModels } from "../hooks/use-evaluations.ts";

/** Models × one eval set × generation settings: one evaluation per picked model. */
export function NewEvaluationForm({
  runId,
  onCreated,
}: {
  runId?: string;
  onCreated?: (ids: string[]) => void;
}) {
  const models = useServedModels();
  const versions = useDatasetVersions();
  const runs = useRuns({});
  const create = useCreateEvaluations();
  const [picked, setPicked] = useState<string[]>([]);
  const [setKind, setSetKind] = useState<"run-heldout" | "version">(runId ? "run-heldout" : "version");
  const [versionId, setVersionId] = useState("");
  const [heldoutRun, setHeldoutRun] = useState(runId ?? "");
  const [settings, setSettings] = useState({ temperature: 0, topP: 1, maxTokens: 128, k: 1, seed: 0 });
  const withHeldout = (runs.data?.runs ?? []).filter(
    (r) => (r.config as { evaluation?: unknown }).evaluation,
  );
  const toggle = (id: string) =>
    setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : p.length < 4 ? [...p, id] : p));
  const submit = () => {
    const evalSet =
      setKind === "version" ? { kind: "version", versionId } : { kind: "run-heldout", runId: heldoutRun };
    create.mutate(
      { models: picked, evalSet, settings },
      { onSuccess: (r) => onCreated?.(r.evaluations.map((e) => e.id)) },
    );
  };
  const error = create.error instanceof ApiError ? create.error : null;
  const num = (key: keyof typeof settings, step: number, label: string) => (
    <label className="field-inline">
      {label}
      <input
        type="number"
        step={step}
        aria-label={label}
        value={settings[key]}
        onChange={(e) => setSettings({ ...settings, [key]: Number(e.target.value) })}
        style={{ width: 90 }}
      />
    </label>
  );
  return (
    <section className="panel" aria-label="New evaluation">
      <h2 className="panel-title">New evaluation</h2>
      <div className="field">
        <span className="muted">
          Models (1–4; the first is the baseline for “fixed / broken by distillation”)
        </span>
        <div className="row">
          {(models.data ?? []).map((m) => (
            <label key={m.id} className="row" style={{ gap: 4 }}>
              <input
                type="checkbox"
                checked={picked.includes(m.id)}
                onChange={() => toggle(m.id)}
                aria-label={`model ${m.label}`}
              />
              <span>{m.label}</span>
              <span className="muted mono">{m.kind}</span>
              {picked.includes(m.id) && <span className="badge">{picked.indexOf(m.id) + 1}</span>}
            </label>
          ))}
          {models.data?.length === 0 && <span className="muted">No models yet.</span>}
        </div>
      </div>
      <div className="row">
        <label className="field-inline">
          Eval set
          <select
            aria-label="Eval set kind"
            value={setKind}
            onChange={(e) => setSetKind(e.target.value as typeof setKind)}
          >
            <option value="run-heldout">a run's held-out set</option>
            <option value="version">a dataset version</option>
          </select>
        </label>
        {setKind === "version" ? (
          <label className="field-inline">
            Dataset version
            <select
              aria-label="Dataset version"
              value={versionId}
              onChange={(e) => setVersionId(e.target.value)}
            >
              <option value="">pick…</option>
              {(versions.data ?? []).map((v) => (
                <option key={v.id} value={v.id}>
                  {v.label} ({v.rows} rows)
                </option>
              ))}
            </select>
          </label>
        ) : (
          <label className="field-inline">
            Run
            <select
              aria-label="Run held-out set"
              value={heldoutRun}
              onChange={(e) => setHeldoutRun(e.target.value)}
            >
              <option value="">pick…</option>
              {withHeldout.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
          </label>
        )}
        {num("temperature", 0.1, "Temperature")}
        {num("topP", 0.05, "Top p")}
        {num("maxTokens", 16, "Max tokens")}
        {num("k", 1, "Samples k")}
        {num("seed", 1, "Seed")}
        <button
          type="button"
          onClick={submit}
          disabled={
            picked.length === 0 || create.isPending || (setKind === "version" ? !versionId : !heldoutRun)
          }
        >
          Evaluate {picked.length > 1 ? `${picked.length} models` : ""}
        </button>
        <button
          type="button"
          onClick={() => setSettings({ ...settings, temperature: 0.6, topP: 0.95, k: 4 })}
          title="R1's pass@1 setting"
        >
          R1 pass@1 preset (T 0.6, k 4)
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error.message}
        </p>
      )}
    </section>
  );
}
