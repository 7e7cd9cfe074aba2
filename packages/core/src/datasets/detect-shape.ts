import { decodeJsonCell } from "./column-path.ts";
import type { DatasetMapping, DatasetShape } from "./dataset-mapping.ts";
import { mapRow } from "./map-row.ts";
import { detectMarkers, nonDefaultMarkers } from "./split-reasoning.ts";

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
const PROMPT_COLUMNS = ["problem", "question", "prompt"];
const ANSWER_COLUMNS = ["solution", "deepseek_solution", "response", "answer", "output"];
const REFERENCE_COLUMNS = [
  "reference",
  "reference_answer",
  "ground_truth",
  "ground_truth_solution",
  "gold",
  "answer",
];

function isTurnList(value: unknown, roleKey: string, contentKey: string): boolean {
  const v = decodeJsonCell(value);
  if (!Array.isArray(v) || v.length === 0) return false;
  const first = v[0] as Record<string, unknown> | null;
  return typeof first === "object" && first !== null && roleKey in first && contentKey in first;
}

const isTextList = (value: unknown) => {
  const v = decodeJsonCell(value);
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string");
};

/**
 * Recognises the well-known published schemas from column names (and, where names are shared,
 * from what the columns hold), most specific first: Magpie also carries `conversations`,
 * OpenR1-Math and NuminaMath also carry `messages`. CSV cells holding JSON lists are read as the
 * lists they are, so JSONL, CSV and Parquet of the same data detect the same shape. Returns null
 * when nothing fits: the UI then asks for a mapping, nothing is guessed.
 */
export function detectShape(rows: readonly Record<string, unknown>[]): DetectedShape | null {
  const detected = detectColumns(rows);
  if (!detected) return null;
  const markers = detectMarkersIn(rows, detected.mapping);
  return markers ? { ...detected, mapping: { ...detected.mapping, markers } } : detected;
}

function detectColumns(rows: readonly Record<string, unknown>[]): DetectedShape | null {
  const sample = rows.find((r) => typeof r === "object" && r !== null && !Array.isArray(r));
  if (!sample) return null;
  const columns = new Set<string>();
  for (const row of rows)
    if (row && typeof row === "object") for (const key of Object.keys(row)) columns.add(key);
  const has = (c: string) => columns.has(c);
  const pick = (candidates: string[], exclude: string[] = []) =>
    candidates.find((c) => has(c) && !exclude.includes(c));
  const system = has("system") ? "system" : has("system_prompt") ? "system_prompt" : undefined;
  const withSystem = system ? { system } : {};

  // s1K (simplescaling/s1K): the trajectory list's first element is the reasoning, `attempt` the
  // answer, `solution` the reference; s1K-1.1 names them per teacher
  if (has("question") && has("thinking_trajectories") && has("attempt")) {
    return {
      shape: "s1k",
      mapping: {
        kind: "columns",
        prompt: "question",
        reasoning: "thinking_trajectories[0]",
        answer: "attempt",
        ...(has("solution") ? { reference: "solution" } : {}),
        ...withSystem,
      },
    };
  }
  for (const teacher of ["deepseek", "gemini"]) {
    if (has("question") && has(`${teacher}_thinking_trajectory`) && has(`${teacher}_attempt`)) {
      return {
        shape: "s1k",
        mapping: {
          kind: "columns",
          prompt: "question",
          reasoning: `${teacher}_thinking_trajectory`,
          answer: `${teacher}_attempt`,
          ...(has("solution") ? { reference: "solution" } : {}),
          ...withSystem,
        },
      };
    }
  }
  // OpenR1-Math: `messages` holds the problem and one verified R1 generation; `answer` is the
  // reference answer, never the response
  if (has("problem") && has("answer") && (has("generations") || has("correctness_math_verify"))) {
    if (has("messages") && isTurnList(sample.messages, "role", "content")) {
      return {
        shape: "openr1-math",
        mapping: {
          kind: "messages",
          column: "messages",
          roleKey: "role",
          contentKey: "content",
          reference: "answer",
          ...withSystem,
        },
      };
    }
    if (isTextList(sample.generations)) {
      return {
        shape: "openr1-math",
        mapping: {
          kind: "columns",
          prompt: "problem",
          response: "generations[0]",
          reference: "answer",
          ...withSystem,
        },
      };
    }
  }
  // R1-style columns: a prompt, a reasoning column and an answer column (OpenThoughts' metadata)
  const prompt = pick(PROMPT_COLUMNS);
  const reasoning = pick(REASONING_COLUMNS);
  if (prompt && reasoning) {
    const answer = pick(ANSWER_COLUMNS, [prompt]);
    if (answer) {
      const reference = pick(REFERENCE_COLUMNS, [prompt, answer]);
      return {
        shape: "r1",
        mapping: {
          kind: "columns",
          prompt,
          reasoning,
          answer,
          ...(reference ? { reference } : {}),
          ...withSystem,
        },
      };
    }
  }
  // NuminaMath (CoT, TIR, 1.5): problem / solution, with `answer` as the reference in 1.5
  if (has("problem") && has("solution")) {
    const reference = pick(REFERENCE_COLUMNS, ["solution"]);
    return {
      shape: "numinamath",
      mapping: {
        kind: "columns",
        prompt: "problem",
        response: "solution",
        ...(reference ? { reference } : {}),
        ...withSystem,
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
        ...withSystem,
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
        ...withSystem,
      },
    };
  }
  if (has("messages") && isTurnList(sample.messages, "role", "content")) {
    const turns = decodeJsonCell(sample.messages) as Record<string, unknown>[];
    const reasoningKey = ["reasoning_content", "reasoning", "thinking"].find((k) =>
      turns.some((t) => t && typeof t === "object" && k in t),
    );
    const reference = pick(REFERENCE_COLUMNS);
    return {
      shape: "openai",
      mapping: {
        kind: "messages",
        column: "messages",
        roleKey: "role",
        contentKey: "content",
        ...(reasoningKey ? { reasoningKey } : {}),
        ...(reference ? { reference } : {}),
        ...withSystem,
      },
    };
  }
  for (const column of ["conversations", "conversation", "messages"]) {
    if (has(column) && isTurnList(sample[column], "from", "value")) {
      return {
        shape: "sharegpt",
        mapping: { kind: "messages", column, roleKey: "from", contentKey: "value", ...withSystem },
      };
    }
  }
  return null;
}

/** Which marker pair the sample's responses use (none found, or `<think>`: the mapping says nothing). */
function detectMarkersIn(rows: readonly Record<string, unknown>[], mapping: DatasetMapping) {
  const texts: string[] = [];
  for (const row of rows.slice(0, 50)) {
    const mapped = mapRow(row, mapping);
    if (!mapped.ok) continue;
    const e = mapped.example;
    // the default split has put everything in the answer when the markers are other ones
    texts.push(e.reasoning === null ? e.answer : `${e.reasoning}\n${e.answer}`);
  }
  return nonDefaultMarkers(detectMarkers(texts));
}

function canonicalMapping(mapping: DatasetMapping): string {
  const { systemPrompt: _ignored, ...rest } = mapping as DatasetMapping & { systemPrompt?: unknown };
  const sorted = (v: unknown): unknown =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([, x]) => x !== undefined && x !== "")
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, x]) => [k, sorted(x)]),
        )
      : v;
  return JSON.stringify(sorted(rest));
}

/**
 * The shape name of a mapping over these rows: the detected shape when the mapping is the one
 * detection proposes (what to do with the system prompt aside), else "custom". The upload
 * screen and the import both name shapes with this, so they agree.
 */
export function nameShape(rows: readonly Record<string, unknown>[], mapping: DatasetMapping): DatasetShape {
  const detected = detectShape(rows);
  if (!detected) return "custom";
  return canonicalMapping(detected.mapping) === canonicalMapping(mapping) ? detected.shape : "custom";
}
