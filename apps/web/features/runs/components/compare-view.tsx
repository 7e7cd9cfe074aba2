"use client";
import Link from "next/link";
import { useState } from "react";
import { useCompareRuns } from "../hooks/use-runs.ts";
import { compareChartsFor } from "../lib/run-charts.ts";
import { ChartControls, MetricChart, SERIES_COLORS } from "./metric-chart.tsx";

const show = (v: unknown) => (v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

/** 2+ runs: each metric's curves overlaid (one color per run), then where their configs differ. */
export function CompareView({ ids }: { ids: string[] }) {
  const { data, error, isLoading } = useCompareRuns(ids);
  const [smoothing, setSmoothing] = useState(0);
  const [isLogScale, setLogScale] = useState(false);
  if (ids.length < 2) return <p className="empty">Pick two or more runs on the runs page to compare them.</p>;
  if (isLoading) return <p className="muted">Loading runs…</p>;
  if (error || !data) return <p className="error">Could not compare: {error?.message}</p>;
  const color = (i: number) => SERIES_COLORS[i % SERIES_COLORS.length] as string;
  return (
    <>
      <div className="row">
        {data.runs.map((r, i) => (
          <span key={r.id} className="legend-chip" style={{ borderColor: color(i) }}>
            <Link href={`/runs/${r.id}`}>{r.name}</Link>{" "}
            <span className={`badge ${r.status}`}>{r.status}</span>
          </span>
        ))}
      </div>
      <ChartControls
        smoothing={smoothing}
        onSmoothing={setSmoothing}
        isLogScale={isLogScale}
        onLogScale={setLogScale}
      />
      <div className="charts">
        {compareChartsFor(data.runs).map((c) => (
          <MetricChart
            key={c.metric}
            id={`compare-${c.metric}`}
            title={c.title}
            yLabel={c.yLabel}
            fileName={`compare-${c.metric}`}
            smoothing={c.metric === "learning_rate" ? 0 : smoothing}
            isLogScale={isLogScale}
            lines={c.runIndexes.map((i) => {
              const r = data.runs[i] as (typeof data.runs)[number];
              return { key: r.id, label: r.name, points: r.series[c.metric] ?? [], color: color(i) };
            })}
          />
        ))}
      </div>
      <div className="panel">
        <h2 className="panel-title">Config differences</h2>
        {data.diff.length === 0 ? (
          <p className="empty">The configs are identical.</p>
        ) : (
          <table data-testid="config-diff">
            <thead>
              <tr>
                <th>Field</th>
                {data.runs.map((r) => (
                  <th key={r.id}>{r.name}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.diff.map((d) => (
                <tr key={d.path}>
                  <td className="mono">{d.path}</td>
                  {d.values.map((v, i) => (
                    <td key={data.runs[i]?.id ?? i} className="mono">
                      {show(v)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
