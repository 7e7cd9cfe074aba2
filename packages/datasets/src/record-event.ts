/** What a format reader yields: a raw row with its position, or a malformed one. */
export type RecordEvent =
  | {
      kind: "row";
      row: Record<string, unknown>;
      line: number;
      /** a key the row's JSON gave twice (JSON.parse keeps the last): reported, not fatal */
      duplicateKey?: string;
    }
  | { kind: "bad"; line: number; reason: string; code?: "too_deep" };
