"use client";
import { useMemo, useRef } from "react";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { chartToCsv, downloadBlob, svgToPng } from "../lib/chart-export.ts";
import { formatNumber, niceTicks } from "../lib/chart-ticks.ts";
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

/** Curves drawn as dots and a line: they have a point every few hundred steps, not every step. */
const SPARSE_METRICS = new Set(["eval_loss"]);

const extent = (values: number[]): [number, number] =>
  values.length ? [Math.min(...values), Math.max(...values)] : [0, 1];

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
  /** the y axis's quantity and unit, e.g. "loss (nats per token)" */
  yLabel?: string;
  /** file names of the PNG and CSV saves */
  fileName?: string;
}) {
  const { lines, smoothing, isLogScale } = props;
  const box = useRef<HTMLDivElement>(null);
  const prepared = useMemo(
    () =>
      lines.map((l, i) => {
        const raw = isLogScale ? l.points.filter((p) => p[1] > 0) : l.points;
        const toData = (pts: readonly Point[]) => pts.map(([step, value]) => ({ step, value }));
        const isSparse = SPARSE_METRICS.has(l.key);
        return {
          ...l,
          isSparse,
          color: l.color ?? SERIES_COLORS[i % SERIES_COLORS.length],
          raw: toData(raw),
          // a few eval points are not smoothed: each is a measurement of its own
          smooth: smoothing > 0 && !isSparse ? toData(smoothSeries(raw, smoothing)) : null,
        };
      }),
    [lines, smoothing, isLogScale],
  );
  const total = lines.reduce((n, l) => n + l.points.length, 0);
  const [xTicks, yTicks] = useMemo(() => {
    const points = lines.flatMap((l) => l.points);
    const [x0, x1] = extent(points.map((p) => p[0]));
    const [y0, y1] = extent(points.map((p) => p[1]).filter((v) => Number.isFinite(v)));
    return [niceTicks(x0, x1, 5, true), niceTicks(y0, y1, 4)];
  }, [lines]);
  const name = props.fileName ?? props.id;
  const savePng = async () => {
    const svg = box.current?.querySelector("svg.recharts-surface");
    if (svg) downloadBlob(await svgToPng(svg as SVGSVGElement, props.title), `${name}.png`);
  };
  const saveCsv = () => downloadBlob(new Blob([chartToCsv(lines)], { type: "text/csv" }), `${name}.csv`);
  return (
    <div className="panel chart" data-testid={`chart-${props.id}`} data-points={total}>
      <div className="chart-title">
        <span>{props.title}</span>
        <span className="row">
          <span className="muted mono">{total === 0 ? "no points yet" : `${total} pts`}</span>
          {total > 0 && (
            <>
              <button type="button" className="link-button small" onClick={() => void savePng()}>
                PNG
              </button>
              <button type="button" className="link-button small" onClick={saveCsv}>
                CSV
              </button>
            </>
          )}
        </span>
      </div>
      {total === 0 ? (
        <div className="chart-empty muted">Waiting for the first {props.title.toLowerCase()} point…</div>
      ) : (
        <div ref={box}>
          <ResponsiveContainer width="100%" height={props.height ?? 240}>
            <LineChart margin={{ top: 8, right: 16, bottom: 18, left: 12 }}>
              <CartesianGrid stroke="#2a2f3a" strokeDasharray="3 3" />
              <XAxis
                dataKey="step"
                type="number"
                domain={[xTicks[0] ?? "dataMin", xTicks.at(-1) ?? "dataMax"]}
                ticks={xTicks}
                tickFormatter={formatNumber}
                allowDuplicatedCategory={false}
                stroke="#8b93a7"
                fontSize={11}
                label={{
                  value: "step",
                  position: "insideBottom",
                  offset: -12,
                  fill: "#8b93a7",
                  fontSize: 11,
                }}
              />
              <YAxis
                type="number"
                scale={isLogScale ? "log" : "linear"}
                domain={isLogScale ? ["auto", "auto"] : [yTicks[0] ?? "auto", yTicks.at(-1) ?? "auto"]}
                {...(isLogScale ? {} : { ticks: yTicks })}
                allowDataOverflow
                stroke="#8b93a7"
                fontSize={11}
                width={72}
                tickFormatter={formatNumber}
                label={
                  props.yLabel
                    ? {
                        value: props.yLabel,
                        angle: -90,
                        position: "insideLeft",
                        fill: "#8b93a7",
                        fontSize: 11,
                        dy: 50,
                      }
                    : undefined
                }
              />
              <Tooltip
                contentStyle={{ background: "#171a21", border: "1px solid #2a2f3a" }}
                labelFormatter={(s) => `step ${s}`}
                formatter={(v) => (typeof v === "number" ? formatNumber(v) : String(v))}
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
                    dot={l.isSparse ? { r: 3.5, fill: l.color, strokeWidth: 0 } : false}
                    isAnimationActive={false}
                    strokeWidth={l.isSparse ? 2.5 : 1.5}
                  />
                ),
              )}
            </LineChart>
          </ResponsiveContainer>
        </div>
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
