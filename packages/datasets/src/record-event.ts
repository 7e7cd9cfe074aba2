/** What a format reader yields: a raw row with its position, or a malformed one. */
export type RecordEvent =
  | { kind: "row"; row: Record<string, unknown>; line: number }
  | { kind: "bad"; line: number; reason: string };
