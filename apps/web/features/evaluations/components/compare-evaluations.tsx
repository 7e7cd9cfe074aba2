"use client";
import { useState } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { splitThink } from "@/features/runs/lib/split-think.ts";
import { useCompareEvaluations } from "../hooks/use-evaluations.ts";
import { COMPARE_FILTERS, type CompareFilter, type EvaluationView } from "../lib/evaluation-types.ts";
import { formatInterval, formatNumber, formatPercent } from "../lib/format.ts";
import { lengthChartData } from "../lib/length-chart.ts";

const COLORS = ["#8b93a7", "#7aa2ff", "#3fb950", "#d29922"];
const FILTER_LABELS: Record<CompareFilter, string> = {
  all: "All",
  wrong: "Wrong only",
  fixed: "Fixed by distillation",
  broken: "Broken by distillation",
};

function MetricsTable({ evaluations }: { evaluations: EvaluationView[] }) {
  const rows: [string, (e: EvaluationView) => string][] = [
    ["Status", (e) => `${e.status} (${e.done}/${e.total || "?"})`],
    [
      "Accuracy (Wilson 95 %)",
      (e) => `${formatPercent(e.metrics?.accuracy)} ${formatInterval(e.metrics?.accuracy_ci)}`,
    ],
    [
      "pass@1 over k (bootstrap 95 %)",
      (e) =>
        `${formatPercent(e.metrics?.pass_at_1)} ${formatInterval(e.metrics?.pass_at_1_ci)} k=${e.metrics?.k ?? "—"}`,
    ],
    ["cons@k", (e) => formatPercent(e.metrics?.cons_at_k)],
    ["pass@k", (e) => formatPercent(e.metrics?.pass_at_k)],
    ["Think-format compliance", (e) => formatPercent(e.metrics?.format_compliance)],
    ["Mean reasoning tokens", (e) => formatNumber(e.metrics?.mean_reasoning_tokens)],
    ["Mean answer tokens", (e) => formatNumber(e.metrics?.mean_answer_tokens)],
    ["Truncation rate", (e) => formatPercent(e.metrics?.truncation_rate)],
    ["Tokens/s", (e) => formatNumber(e.metrics?.tokens_per_second, 0)],
    [
      "Settings",
      (e) =>
        e.settings.k
          ? `T ${e.settings.temperature} · top-p ${e.settings.topP} · max ${e.settings.maxTokens} · k ${e.settings.k}`
          : "—",
    ],
  ];
  return (
    <table aria-label="Metrics">
      <thead>
        <tr>
          <th>Metric</th>
          {evaluations.map((e) => (
            <th key={e.id}>
              {e.name}
              <div className="mono muted">{e.model}</div>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map(([label, cell]) => (
          <tr key={label}>
            <td className="muted">{label}</td>
            {evaluations.map((e) => (
              <td key={e.id}>{cell(e)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function LengthChart({ evaluations }: { evaluations: EvaluationView[] }) {
  const data = lengthChartData(evaluations);
  if (data.length === 0) return null;
  return (
    <section className="panel chart" aria-label="Accuracy by reasoning length">
      <div className="chart-title">Accuracy (%) by reasoning length (tokens)</div>
      <ResponsiveContainer width="100%" height={240}>
        <BarChart data={data}>
          <CartesianGrid stroke="#2a2f3a" />
          <XAxis dataKey="bucket" stroke="#8b93a7" />
          <YAxis domain={[0, 100]} stroke="#8b93a7" />
          <Tooltip
            contentStyle={{ background: "#171a21", border: "1px solid #2a2f3a" }}
            formatter={(value, _name, item) => {
              const i = String(item.dataKey ?? "").slice(1);
              const n = (item.payload as Record<string, number>)[`n${i}`];
              return `${value} %${n !== undefined ? ` of ${n}` : ""}`;
            }}
          />
          <Legend />
          {evaluations.map((e, i) => (
            <Bar key={e.id} dataKey={`e${i}`} name={e.name} fill={COLORS[i % COLORS.length]} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </section>
  );
}

/** Output cell: reasoning folded, answer as text (model output is untrusted: never HTML). */
function OutputCell({ output }: { output: string }) {
  const { think, answer } = splitThink(output);
  return (
    <div className="sample-answer">
      {think !== null && (
        <details className="think">
          <summary>reasoning ({think.length} chars)</summary>
          <pre>{think}</pre>
        </details>
      )}
      <pre>{answer}</pre>
    </div>
  );
}

/** Results of 1–4 evaluations of the same set, side by side. */
export function CompareEvaluations({ ids }: { ids: string[] }) {
  const [filter, setFilter] = useState<CompareFilter>("all");
  const [offset, setOffset] = useState(0);
  const q = useCompareEvaluations(ids, filter, offset);
  if (ids.length === 0) return <p className="empty">Pick evaluations on the Evaluations page.</p>;
  if (q.error) return <p className="error">{(q.error as Error).message}</p>;
  if (!q.data) return <p className="muted">Loading…</p>;
  const { evaluations, rows, counts, total } = q.data;
  return (
    <>
      <MetricsTable evaluations={evaluations} />
      <div className="row" style={{ margin: "12px 0" }}>
        {evaluations.map((e) => (
          <span key={e.id} className="row" style={{ gap: 6 }}>
            <a href={`/api/evaluations/${e.id}/export?format=csv`} download>
              {e.name} CSV
            </a>
            <a href={`/api/evaluations/${e.id}/export?format=jsonl`} download>
              JSONL
            </a>
          </span>
        ))}
      </div>
      <LengthChart evaluations={evaluations} />
      <fieldset className="row filters" aria-label="Filter examples" style={{ border: 0, padding: 0 }}>
        {COMPARE_FILTERS.filter((f) => evaluations.length > 1 || f === "all" || f === "wrong").map((f) => (
          <button
            key={f}
            type="button"
            aria-pressed={filter === f}
            onClick={() => {
              setFilter(f);
              setOffset(0);
            }}
            style={filter === f ? { borderColor: "#7aa2ff" } : undefined}
          >
            {FILTER_LABELS[f]} ({counts[f]})
          </button>
        ))}
      </fieldset>
      <table aria-label="Examples">
        <thead>
          <tr>
            <th>#</th>
            <th>Prompt</th>
            <th>Reference</th>
            {evaluations.map((e) => (
              <th key={e.id}>{e.name}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.index}>
              <td className="muted">{r.index}</td>
              <td style={{ maxWidth: 320 }}>
                <pre>{r.prompt}</pre>
              </td>
              <td className="mono">{r.reference}</td>
              {r.cells.map((c, i) => (
                <td key={evaluations[i]?.id ?? i} style={{ maxWidth: 360 }}>
                  {c ? (
                    <>
                      <span className={`badge ${c.isCorrect ? "ok" : "bad"}`}>
                        {c.isCorrect ? "correct" : "wrong"}
                      </span>{" "}
                      <span className="muted">
                        {c.reasoningTokens} reasoning tokens{c.isTruncated ? " · truncated" : ""}
                      </span>
                      <OutputCell output={c.output} />
                    </>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p className="empty">No examples match.</p>}
      <div className="row">
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - 50))}>
          Previous
        </button>
        <span className="muted">
          {total === 0 ? 0 : offset + 1}–{Math.min(total, offset + 50)} of {total}
        </span>
        <button type="button" disabled={offset + 50 >= total} onClick={() => setOffset(offset + 50)}>
          Next
        </button>
      </div>
    </>
  );
}
