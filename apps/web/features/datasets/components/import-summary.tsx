"use client";
import { DATASET_SHAPE_LABELS, type DatasetShape } from "@distillery/core";

export interface ImportCoercion {
  kind: "number-as-text" | "non-finite-number" | "duplicate-key";
  rows: number;
  first: { file: string; line: number; field: string };
}

const COERCION_TEXT: Record<ImportCoercion["kind"], string> = {
  "number-as-text": "numbers or booleans stored as text",
  "non-finite-number": 'numbers too large for JSON stored as text (1e999 → "Infinity")',
  "duplicate-key": "a key given twice in one row (the last value was kept)",
};

export const shapeLabel = (shape: unknown) =>
  typeof shape === "string" && shape in DATASET_SHAPE_LABELS
    ? DATASET_SHAPE_LABELS[shape as DatasetShape]
    : String(shape ?? "custom mapping");

/** What an import did without failing a row: each silent conversion, counted, with its first place. */
export function ImportCoercions({ coercions }: { coercions: ImportCoercion[] | undefined }) {
  if (!coercions || coercions.length === 0) return null;
  return (
    <ul className="coercions" data-testid="import-coercions">
      {coercions.map((c) => (
        <li key={c.kind}>
          {c.rows.toLocaleString("en-US")} row{c.rows === 1 ? "" : "s"}: {COERCION_TEXT[c.kind]} (first at{" "}
          <span className="mono">
            {c.first.file}:{c.first.line}
          </span>
          , field <span className="mono">{c.first.field}</span>)
        </li>
      ))}
    </ul>
  );
}
