import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEventLine, ZEngineEvent } from "@distillery/core/events";
import { describe, expect, it } from "vitest";

// The same fixtures tests/test_protocol.py and tests/test_schema.py check against the exported
// JSON Schema: both sides of the protocol must agree on every line.
const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "core", "fixtures", "events");
const linesOf = (name: string) =>
  readFileSync(join(fixtures, name), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");

describe("event protocol fixtures against the zod schema", () => {
  it.each(linesOf("valid.jsonl").map((line, i) => [i + 1, line] as const))(
    "valid line %i parses",
    (_n, line) => {
      const result = parseEventLine(line);
      expect(result.ok ? "ok" : result.error).toBe("ok");
    },
  );

  it.each(linesOf("invalid.jsonl").map((line, i) => [i + 1, line] as const))(
    "invalid line %i is rejected",
    (_n, line) => {
      expect(ZEngineEvent.safeParse(JSON.parse(line)).success).toBe(false);
      expect(parseEventLine(line).ok).toBe(false);
    },
  );

  it("has fixtures for every event type", () => {
    const types = new Set(linesOf("valid.jsonl").map((line) => (JSON.parse(line) as { type: string }).type));
    expect([...types].sort()).toEqual(
      ["artifact", "checkpoint", "done", "error", "eval", "log", "metric", "sample", "status"].sort(),
    );
  });
});
