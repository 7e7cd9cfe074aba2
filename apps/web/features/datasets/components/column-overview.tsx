"use client";
import { describeValue, suggestPaths } from "@distillery/core";

const PREVIEW_CHARS = 120;

/** The first value of a column, as a short line of text (dataset text is rendered as text). */
export function previewValue(value: unknown): string {
  if (value === undefined) return "(missing)";
  if (value === null) return "null";
  if (typeof value === "string") {
    const line = value.replace(/\s+/g, " ").trim();
    return line.length > PREVIEW_CHARS ? `${line.slice(0, PREVIEW_CHARS)}…` : line || "(empty)";
  }
  if (typeof value !== "object") return String(value);
  const json = JSON.stringify(value);
  return `${describeValue(value)}: ${json.length > PREVIEW_CHARS ? `${json.slice(0, PREVIEW_CHARS)}…` : json}`;
}

/**
 * Every column with a preview of its first values, and for lists and objects the paths that
 * reach text inside them: what a person needs to map columns the studio did not recognise.
 */
export function ColumnOverview(props: { columns: string[]; rows: Record<string, unknown>[] }) {
  return (
    <table className="column-overview" data-testid="column-overview">
      <thead>
        <tr>
          <th>Column</th>
          <th>First values</th>
          <th>Paths inside</th>
        </tr>
      </thead>
      <tbody>
        {props.columns.map((c) => (
          <tr key={c} data-testid="column-row">
            <td className="mono">{c}</td>
            <td>
              {props.rows.slice(0, 2).map((r, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: preview rows are positional
                <div key={i} className="small">
                  {previewValue(r[c])}
                </div>
              ))}
            </td>
            <td className="mono small">{suggestPaths(c, props.rows[0]?.[c]).join("  ")}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
