"use client";
import { useMemo } from "react";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Point } from "../lib/downsample.ts";
import { smoothSeries } from "../lib/metric-series.ts";

export const SERIES_COLORS = [
  "#7aa2ff",
  "#f0883e",
  "#3fb950",
  "#d2a8ff",
  "#f85149",
  "#56d4dd",
  "#e3b341",
  "#ff7b72",
];

export interface ChartLine {
  key: string;
  label: string;
  points: readonly Point[];
  color?: string;
}

const formatValue = (v: number) => {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
};

/**
 * One chart of one or more curves over steps. Smoothing is an EMA drawn over the faint raw
 * curve; log scale drops points ≤ 0 (they have no place on it).
 */
export function MetricChart(props: {
  id: string;
  title: string;
  lines: ChartLine[];
  smoothing: number;
  isLogScale: boolean;
  height?: number;
}) {
  const { lines, smoothing, isLogScale } = props;
  const prepared = useMemo(
    () =>
      lines.map((l, i) => {
        const raw = isLogScale ? l.points.filter((p) => p[1] > 0) : l.points;
        const toData = (pts: readonly Point[]) => pts.map(([step, value]) => ({ step, value }));
        return {
          ...l,
          color: l.color ?? SERIES_COLORS[i % SERIES_COLORS.length],
          raw: toData(raw),
          smooth: smoothing > 0 ? toData(smoothSeries(raw, smoothing)) : null,
        };
      }),
    [lines, smoothing, isLogScale],
  );
  const total = lines.reduce((n, l) => n + l.points.length, 0);
  return (
    <div className="panel chart" data-testid={`chart-${props.id}`} data-points={total}>
      <div className="chart-title">
        <span>{props.title}</span>
        <span className="muted mono">{total === 0 ? "no points yet" : `${total} pts`}</span>
      </div>
      {total === 0 ? (
        <div className="chart-empty muted">Waiting for the first {props.title.toLowerCase()} point…</div>
      ) : (
        <ResponsiveContainer width="100%" height={props.height ?? 220}>
          <LineChart margin={{ top: 8, right: 16, bottom: 4, left: 4 }}>
            <CartesianGrid stroke="#2a2f3a" strokeDasharray="3 3" />
            <XAxis
              dataKey="step"
              type="number"
              domain={["dataMin", "dataMax"]}
              allowDuplicatedCategory={false}
              stroke="#8b93a7"
              fontSize={11}
            />
            <YAxis
              type="number"
              scale={isLogScale ? "log" : "linear"}
              domain={["auto", "auto"]}
              allowDataOverflow
              stroke="#8b93a7"
              fontSize={11}
              width={64}
              tickFormatter={formatValue}
            />
            <Tooltip
              contentStyle={{ background: "#171a21", border: "1px solid #2a2f3a" }}
              labelFormatter={(s) => `step ${s}`}
              formatter={(v) => (typeof v === "number" ? formatValue(v) : String(v))}
            />
            {prepared.length > 1 && <Legend wrapperStyle={{ fontSize: 12 }} />}
            {prepared.map((l) =>
              l.smooth ? (
                [
                  <Line
                    key={`${l.key}-raw`}
                    data={l.raw}
                    dataKey="value"
                    name={`${l.label} (raw)`}
                    stroke={l.color}
                    strokeOpacity={0.25}
                    dot={false}
                    isAnimationActive={false}
                    legendType="none"
                  />,
                  <Line
                    key={l.key}
                    data={l.smooth}
                    dataKey="value"
                    name={l.label}
                    stroke={l.color}
                    dot={false}
                    isAnimationActive={false}
                    strokeWidth={2}
                  />,
                ]
              ) : (
                <Line
                  key={l.key}
                  data={l.raw}
                  dataKey="value"
                  name={l.label}
                  stroke={l.color}
                  dot={false}
                  isAnimationActive={false}
                  strokeWidth={1.5}
                />
              ),
            )}
          </LineChart>
        </ResponsiveContainer>
      )}
    </div>
  );
}

export function ChartControls(props: {
  smoothing: number;
  onSmoothing: (v: number) => void;
  isLogScale: boolean;
  onLogScale: (v: boolean) => void;
}) {
  return (
    <div className="row chart-controls">
      <label className="row">
        <input
          type="checkbox"
          checked={props.smoothing > 0}
          onChange={(e) => props.onSmoothing(e.target.checked ? 0.6 : 0)}
        />{" "}
        Smoothing
      </label>
      {props.smoothing > 0 && (
        <input
          type="range"
          min={0.05}
          max={0.99}
          step={0.01}
          value={props.smoothing}
          aria-label="Smoothing weight"
          onChange={(e) => props.onSmoothing(Number(e.target.value))}
        />
      )}
      <label className="row">
        <input
          type="checkbox"
          checked={props.isLogScale}
          onChange={(e) => props.onLogScale(e.target.checked)}
        />{" "}
        Log scale
      </label>
    </div>
  );
}

/** The charts every run page and the compare view show, in order. */
export const RUN_CHARTS = [
  { id: "loss", title: "Loss", metrics: ["loss", "eval_loss"] },
  { id: "learning_rate", title: "Learning rate", metrics: ["learning_rate"] },
  { id: "grad_norm", title: "Grad norm", metrics: ["grad_norm"] },
  { id: "tokens_per_second", title: "Tokens / s", metrics: ["tokens_per_second"] },
] as const;

export const METRIC_LABELS: Record<string, string> = {
  loss: "train loss",
  eval_loss: "eval loss",
  learning_rate: "learning rate",
  grad_norm: "grad norm",
  tokens_per_second: "tokens/s",
};
