"use client";
import { useState } from "react";
import { useDatasetVersions, useRuns } from "@/features/runs/hooks/use-runs.ts";
import { useTeachers } from "@/features/teachers/hooks/use-teachers.ts";
import { ApiError } from "@/lib/client/api.ts";
import { useCreateEvaluations, useServedModels, useUploadEvalSet } from "../hooks/use-evaluations.ts";

/** Models × one eval set × generation settings: one evaluation per picked model. */
export function NewEvaluationForm({
  runId,
  onCreated,
}: {
  runId?: string;
  onCreated?: (ids: string[]) => void;
}) {
  const served = useServedModels();
  const teachers = useTeachers();
  const versions = useDatasetVersions();
  const upload = useUploadEvalSet();
  // the studio's models, then the workspace's teacher endpoints (evaluated as teacher:<id>)
  const models = [
    ...(served.data ?? []).map((m) => ({ id: m.id, label: m.label, kind: m.kind })),
    ...(teachers.data?.teachers ?? []).map((t) => ({
      id: `teacher:${t.id}`,
      label: t.name,
      kind: `teacher · ${t.model}`,
    })),
  ];
  const runs = useRuns({});
  const create = useCreateEvaluations();
  const [picked, setPicked] = useState<string[]>([]);
  const [setKind, setSetKind] = useState<"run-heldout" | "version" | "upload">(
    runId ? "run-heldout" : "version",
  );
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
      setKind === "run-heldout"
        ? { kind: "run-heldout", runId: heldoutRun }
        : { kind: "version", versionId: setKind === "upload" ? (upload.data?.versionId ?? "") : versionId };
    create.mutate(
      { models: picked, evalSet, settings },
      { onSuccess: (r) => onCreated?.(r.evaluations.map((e) => e.id)) },
    );
  };
  const error = [create.error, upload.error].find((e) => e instanceof ApiError) ?? null;
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    upload.mutate({ fileName: file.name, text: await file.text() });
  };
  const setReady =
    setKind === "run-heldout" ? !!heldoutRun : setKind === "upload" ? !!upload.data : !!versionId;
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
          {models.map((m) => (
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
          {served.data?.length === 0 && !teachers.data?.teachers.length && (
            <span className="muted">No models yet.</span>
          )}
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
            <option value="upload">an uploaded prompt/answer file</option>
          </select>
        </label>
        {setKind === "upload" ? (
          <label className="field-inline">
            Prompt/answer file
            <input
              type="file"
              aria-label="Prompt/answer file"
              accept=".jsonl,.ndjson,.json,.csv,.tsv"
              title="JSONL, JSON, CSV or TSV with a prompt (or question/problem) and an answer (or reference/solution) column"
              onChange={(e) => void onFile(e.target.files?.[0])}
            />
            {upload.isPending && <span className="muted">uploading…</span>}
            {upload.data && (
              <span className="muted" data-testid="eval-set-uploaded">
                {upload.data.label}: {upload.data.rows} problems
                {upload.data.skipped ? ` (${upload.data.skipped} empty rows skipped)` : ""}
              </span>
            )}
          </label>
        ) : setKind === "version" ? (
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
          disabled={picked.length === 0 || create.isPending || !setReady}
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
