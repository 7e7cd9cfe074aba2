"use client";
import Link from "next/link";
import { Fragment, useState } from "react";
import { useModels } from "../../runs/hooks/use-runs.ts";
import { useModelDetail } from "../hooks/use-models.ts";
import { cpuTrainingWork, ENGINE_LABELS, formatBytes, formatParameters } from "../lib/format-model.ts";

/** Every model of the workspace with what can be read from its files, and who can train it. */
export function ModelsTable() {
  const models = useModels();
  const [open, setOpen] = useState<string | null>(null);
  if (models.isLoading) return <p className="muted">Loading models…</p>;
  if (models.error) return <p className="error">Could not load models: {models.error.message}</p>;
  if (!models.data?.length) return <p className="empty">No models yet: add one above.</p>;
  return (
    <table data-testid="models-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Architecture</th>
          <th>Parameters</th>
          <th>Context</th>
          <th>Dtype</th>
          <th>Chat template</th>
          <th>Trains on</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {models.data.map((m) => (
          <Fragment key={m.id}>
            <tr data-testid="model-row">
              <td>
                <strong>{m.name}</strong>
                {m.hubId && m.hubId !== m.name && <div className="muted small mono">{m.hubId}</div>}
              </td>
              <td>{m.architecture}</td>
              <td
                title={
                  m.parametersFrom === "config"
                    ? "estimated from config.json"
                    : "counted from the safetensors headers"
                }
              >
                {formatParameters(m.parameters)}
                {m.parametersFrom === "config" ? " (est.)" : ""}
              </td>
              <td>{m.contextLength ? `${m.contextLength.toLocaleString("en-US")} tokens` : "—"}</td>
              <td>{m.dtype ?? "—"}</td>
              <td>{m.hasChatTemplate ? "yes" : <span className="muted">none</span>}</td>
              <td>
                {(["local", "hf"] as const).map((e) => (
                  <div key={e} title={m.engineReasons[e] ?? ""}>
                    {m.engines.includes(e) ? "✓" : "✗"} {ENGINE_LABELS[e]}
                    {!m.engines.includes(e) && m.engineReasons[e] && (
                      <div className="muted small">{m.engineReasons[e]}</div>
                    )}
                  </div>
                ))}
              </td>
              <td>
                <div className="row">
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => setOpen(open === m.id ? null : m.id)}
                  >
                    {open === m.id ? "Hide" : "Details"}
                  </button>
                  <Link href={`/runs/new?modelId=${m.id}`}>Train</Link>
                </div>
              </td>
            </tr>
            {open === m.id && (
              <tr>
                <td colSpan={8}>
                  <ModelDetail id={m.id} />
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}

const formatCount = (v: number) => (v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(2));

function ModelDetail({ id }: { id: string }) {
  const detail = useModelDetail(id);
  const m = detail.data?.model;
  if (!m) return <p className="muted">{detail.error ? detail.error.message : "Loading…"}</p>;
  const t = m.specialTokens;
  const cpuWork = m.engines.includes("local") ? cpuTrainingWork(m.parameters) : null;
  return (
    <div className="stat-grid" data-testid="model-detail">
      <dl className="summary">
        <dt>Special tokens</dt>
        <dd className="mono">
          {t
            ? [
                t.bos && `bos ${t.bos}`,
                t.eos && `eos ${t.eos}`,
                t.pad && `pad ${t.pad}`,
                t.unk && `unk ${t.unk}`,
              ]
                .filter(Boolean)
                .join(" · ") || "none named"
            : "—"}
        </dd>
        <dt>Added special tokens</dt>
        <dd className="mono">{t?.added.length ? t.added.join(" ") : "none"}</dd>
        <dt>Weights</dt>
        <dd className="mono">
          {m.weightFiles.length ? m.weightFiles.join(", ") : "no safetensors"} · {formatBytes(m.bytes)}
        </dd>
        {cpuWork && (
          <>
            <dt>On the CPU engine</dt>
            <dd data-testid="cpu-work">
              ~{formatCount(cpuWork.flopPerToken / 1e9)} GFLOP per trained token (LoRA: forward and backward
              through the frozen base) · {formatBytes(cpuWork.weightBytes)} of f32 weights in memory
            </dd>
          </>
        )}
        <dt>From</dt>
        <dd className="mono">
          {m.source?.kind ?? "—"} {m.source?.hubId ?? m.source?.path ?? ""}
          {m.source?.revision ? `@${m.source.revision}` : ""}
        </dd>
      </dl>
      <div>
        <div className="muted small">Chat template</div>
        <pre className="rendered" data-testid="chat-template">
          {m.chatTemplate ?? "none: runs use a built-in template (phi3, chatml, llama3…)"}
        </pre>
      </div>
    </div>
  );
}
