"use client";
import { useState } from "react";
import { estimateTruncated, type Histogram, TokenHistograms } from "./token-histograms.tsx";

interface Stats {
  rows?: number;
  maxLength?: number;
  truncated?: number;
  histograms?: Record<string, Histogram>;
  think?: { ok: number; separate: number; missing: number; unclosed: number };
  withAnswer?: number;
  withoutAnswer?: number;
  tokenizer?: { kind: "model"; modelName: string; path: string } | { kind: "bytes"; reason: string };
  template?: string;
}

/** Token statistics of a version: histograms, truncation at a chosen length, think tags, answers. */
export function VersionStats({ stats }: { stats: Stats }) {
  const [maxLength, setMaxLength] = useState(stats.maxLength ?? 2048);
  if (!stats.histograms) return <p className="muted">This version has no token statistics.</p>;
  const truncated =
    maxLength === stats.maxLength && typeof stats.truncated === "number"
      ? { rows: stats.truncated, isExact: true }
      : estimateTruncated(stats.histograms.total, maxLength);
  const think = stats.think;
  const rows = stats.rows ?? 0;
  const pct = (n: number) => (rows ? `${((100 * n) / rows).toFixed(1)}%` : "–");
  return (
    <>
      <div className="panel" data-testid="version-stats">
        <p className="muted" data-testid="stats-tokenizer">
          {stats.tokenizer?.kind === "model"
            ? `Counted with ${stats.tokenizer.modelName}'s tokenizer.json`
            : `Counted in UTF-8 bytes, not tokens (${stats.tokenizer?.kind === "bytes" ? stats.tokenizer.reason : "no tokenizer"})`}
          {stats.template ? `, rendered with the ${stats.template} template` : ""}.
          {stats.tokenizer?.kind !== "model" && " Choose the student's tokenizer above to count its tokens."}
        </p>
        <div className="stat-grid">
          <div className="stat">
            <label htmlFor="max-length">Max length</label>
            <input
              id="max-length"
              type="number"
              min={1}
              value={maxLength}
              onChange={(e) => setMaxLength(Number(e.target.value) || 1)}
            />
            <span data-testid="truncated">
              {truncated.isExact ? "" : "≤ "}
              {truncated.rows.toLocaleString()} rows truncated ({pct(truncated.rows)})
            </span>
          </div>
          {think && (
            <div className="stat" data-testid="think-validity">
              <span className="stat-label">Think tags</span>
              <span>
                ok {think.ok} · separate column {think.separate} · missing {think.missing} · unclosed{" "}
                {think.unclosed}
              </span>
            </div>
          )}
          <div className="stat" data-testid="answer-presence">
            <span className="stat-label">Answers</span>
            <span>
              present {stats.withAnswer ?? 0} ({pct(stats.withAnswer ?? 0)}) · missing{" "}
              {stats.withoutAnswer ?? 0}
            </span>
          </div>
        </div>
      </div>
      <TokenHistograms histograms={stats.histograms} />
    </>
  );
}
