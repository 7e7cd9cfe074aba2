import type { CanonicalExample } from "@distillery/core";

/**
 * Where a gzip member of a version's rows file starts: `row` is the index of its first row,
 * `offset` its byte offset in the file. Reading from `offset` with any gzip reader yields rows
 * `row`, `row + 1`, … to the end.
 */
export interface RowBlock {
  row: number;
  offset: number;
}

export interface RowSinkResult {
  rows: number;
  /** bytes written (compressed) */
  bytes: number;
  /** where the committed rows live: a path or a blob key */
  location: string;
  /** seek points into the rows file, one per gzip member, in order (absent: read from the start) */
  blocks?: RowBlock[];
}

/**
 * Where an import, filter or split writes a version's rows. Nothing is visible until
 * `commit()` succeeds; `abort()` removes everything written so far. A sink is used once.
 * The DB/blob-storage side implements this same interface.
 */
export interface RowSink {
  write(rows: readonly CanonicalExample[]): Promise<void>;
  commit(): Promise<RowSinkResult>;
  abort(reason?: unknown): Promise<void>;
}
