import type { CanonicalExample } from "@distillery/core";

export interface RowSinkResult {
  rows: number;
  /** bytes written (compressed) */
  bytes: number;
  /** where the committed rows live: a path or a blob key */
  location: string;
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
