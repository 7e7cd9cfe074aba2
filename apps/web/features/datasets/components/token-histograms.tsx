"use client";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface Histogram {
  edges: number[];
  counts: number[];
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

const PARTS = ["prompt", "reasoning", "answer", "total"] as const;

/** Rows a max length would truncate, from the total histogram (exact at bin edges). */
export function estimateTruncated(
  h: Histogram | undefined,
  maxLength: number,
): { rows: number; isExact: boolean } {
  if (!h) return { rows: 0, isExact: true };
  let rows = 0;
  let isExact = true;
  h.counts.forEach((c, i) => {
    const lo = h.edges[i] ?? 0;
    const hi = i === h.counts.length - 1 ? Number.POSITIVE_INFINITY : (h.edges[i + 1] ?? lo);
    if (lo > maxLength) rows += c;
    else if (hi > maxLength + 1 && c > 0 && h.max > maxLength) {
      isExact = false;
      rows += c; // a bin straddling the cut: counted as truncated, so this is an upper bound
    }
  });
  return { rows, isExact };
}

export function TokenHistograms({
  histograms,
}: {
  histograms: Partial<Record<(typeof PARTS)[number], Histogram>>;
}) {
  return (
    <div className="charts" data-testid="token-histograms">
      {PARTS.map((part) => {
        const h = histograms[part];
        if (!h) return null;
        const data = h.counts.map((count, i) => ({
          bin: i === h.counts.length - 1 ? `${h.edges[i]}+` : `${h.edges[i]}`,
          count,
        }));
        return (
          <div className="panel chart" key={part} data-testid={`histogram-${part}`}>
            <div className="chart-title">
              <span>{part} tokens</span>
              <span className="muted">
                mean {Math.round(h.mean)} · p50 {h.p50} · p90 {h.p90} · max {h.max}
              </span>
            </div>
            <ResponsiveContainer width="100%" height={200}>
              <BarChart data={data} margin={{ top: 4, right: 8, bottom: 4, left: 0 }}>
                <CartesianGrid stroke="#2a2f3a" vertical={false} />
                <XAxis dataKey="bin" tick={{ fill: "#8b93a7", fontSize: 10 }} interval="preserveStartEnd" />
                <YAxis tick={{ fill: "#8b93a7", fontSize: 10 }} allowDecimals={false} width={40} />
                <Tooltip contentStyle={{ background: "#171a21", border: "1px solid #2a2f3a" }} />
                <Bar dataKey="count" fill="#7aa2ff" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </div>
        );
      })}
    </div>
  );
}
