/**
 * One error class for everything the engine rejects. `code` is stable for the API/UI; the
 * message is written for a person and names the file, line and field where there is one.
 */
export type DatasetErrorCode =
  | "too_large"
  | "line_too_long"
  | "decompression_bomb"
  | "bad_encoding"
  | "bad_format"
  | "unknown_format"
  | "unknown_shape"
  | "bad_row"
  | "too_deep"
  | "too_many_columns"
  | "empty"
  | "hub"
  | "aborted"
  | "unavailable"
  | "sink";

export interface DatasetErrorDetails {
  file?: string;
  line?: number;
  field?: string;
}

export class DatasetError extends Error {
  readonly code: DatasetErrorCode;
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;

  constructor(code: DatasetErrorCode, message: string, details: DatasetErrorDetails = {}) {
    const where = [
      details.file,
      details.line !== undefined ? `line ${details.line}` : undefined,
      details.field ? `field "${details.field}"` : undefined,
    ]
      .filter(Boolean)
      .join(", ");
    super(where ? `${where}: ${message}` : message);
    this.name = "DatasetError";
    this.code = code;
    if (details.file !== undefined) this.file = details.file;
    if (details.line !== undefined) this.line = details.line;
    if (details.field !== undefined) this.field = details.field;
  }
}

/** A malformed row, as reported to the user (skip policy) or thrown (reject policy). */
export interface RowError {
  file: string;
  /** 1-based line (JSONL, CSV, JSON) or row number (Parquet) */
  line: number;
  field?: string;
  reason: string;
}
