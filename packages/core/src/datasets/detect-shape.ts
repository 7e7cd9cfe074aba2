import type { DatasetMapping, DatasetShape } from "./dataset-mapping.ts";

export interface DetectedShape {
  shape: DatasetShape;
  mapping: DatasetMapping;
}

/** Columns that R1-style datasets use for reasoning kept apart from the answer. */
const REASONING_COLUMNS = [
  "reasoning",
  "reasoning_content",
  "thinking",
  "deepseek_reasoning",
  "think",
  "cot",
];
const REFERENCE_COLUMNS = ["reference", "reference_answer", "ground_truth", "gold", "answer"];

function isTurnList(value: unknown, roleKey: string, contentKey: string): boolean {
  if (!Array.isArray(value) || value.length === 0) return false;
  const first = value[0] as Record<string, unknown> | null;
  return typeof first === "object" && first !== null && roleKey in first && contentKey in first;
}

/**
 * Guesses the shape from the column names of the first rows (one row is enough; more rows help
 * when a column is sometimes missing). Returns null when nothing fits, so the UI asks for a
 * custom mapping.
 */
export function detectShape(rows: readonly Record<string, unknown>[]): DetectedShape | null {
  const sample = rows[0];
  if (!sample) return null;
  const columns = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) columns.add(key);
  const has = (c: string) => columns.has(c);
  const pick = (candidates: string[], exclude: string[] = []) =>
    candidates.find((c) => has(c) && !exclude.includes(c));
  const system = has("system") ? "system" : has("system_prompt") ? "system_prompt" : undefined;

  if (has("messages") && isTurnList(sample.messages, "role", "content")) {
    const turns = sample.messages as Record<string, unknown>[];
    const reasoningKey = turns.some((t) => "reasoning_content" in t) ? "reasoning_content" : undefined;
    return {
      shape: "openai",
      mapping: {
        kind: "messages",
        column: "messages",
        roleKey: "role",
        contentKey: "content",
        ...(reasoningKey ? { reasoningKey } : {}),
        ...(system ? { system } : {}),
      },
    };
  }
  if (has("conversations") && isTurnList(sample.conversations, "from", "value")) {
    return {
      shape: "sharegpt",
      mapping: {
        kind: "messages",
        column: "conversations",
        roleKey: "from",
        contentKey: "value",
        ...(system ? { system } : {}),
      },
    };
  }
  if (has("problem") && has("solution")) {
    const reasoning = pick(REASONING_COLUMNS);
    const reference = pick(REFERENCE_COLUMNS, ["solution"]);
    return {
      shape: "r1",
      mapping: {
        kind: "columns",
        prompt: "problem",
        ...(reasoning ? { reasoning, answer: "solution" } : { response: "solution" }),
        ...(reference ? { reference } : {}),
        ...(system ? { system } : {}),
      },
    };
  }
  if (has("instruction") && has("output")) {
    return {
      shape: "alpaca",
      mapping: {
        kind: "columns",
        prompt: "instruction",
        ...(has("input") ? { input: "input" } : {}),
        response: "output",
        ...(system ? { system } : {}),
      },
    };
  }
  if (has("instruction") && has("response")) {
    const reference = pick(REFERENCE_COLUMNS);
    return {
      shape: "magpie",
      mapping: {
        kind: "columns",
        prompt: "instruction",
        response: "response",
        ...(reference ? { reference } : {}),
        ...(system ? { system } : {}),
      },
    };
  }
  return null;
}
