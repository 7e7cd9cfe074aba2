import type { CanonicalExample, ChatMessage } from "./canonical-example.ts";
import { decodeJsonCell, describeValue, pathColumn, readPath } from "./column-path.ts";
import {
  type ColumnsMapping,
  type DatasetMapping,
  type MessagesMapping,
  ROLE_ALIASES,
  type SystemPromptChoice,
} from "./dataset-mapping.ts";
import {
  splitReasoning,
  stripAnswerMarkers,
  stripReasoningMarkers,
  THINK_MARKERS,
} from "./split-reasoning.ts";

/**
 * Silent conversions a row went through, reported in the import summary: a number or boolean
 * stored as text, and a number JSON cannot hold (`1e999` parses as Infinity).
 */
export type Coercion = { kind: "number-as-text" | "non-finite-number"; field: string };

export type MapRowResult =
  | { ok: true; example: CanonicalExample; coercions?: Coercion[] }
  | { ok: false; field: string; reason: string };

const fail = (field: string, reason: string): MapRowResult => ({ ok: false, field, reason });

/**
 * NUL (U+0000) in text is refused: PostgreSQL cannot store it in text or JSON, tokenizers treat
 * it inconsistently, and no real trace needs it. The row is a bad row naming its field, so the
 * policy (skip and report, or reject the file) applies, and nothing downstream ever sees one.
 */
export const NUL_REASON = "contains a NUL character (U+0000); remove it from the file";

type Text = string | undefined | MapRowResult;

class RowReader {
  coercions: Coercion[] = [];
  constructor(private readonly row: Record<string, unknown>) {}

  /** Strings pass; numbers and booleans become text (noted); lists and objects are an error. */
  text(path: string): Text {
    const read = readPath(this.row, path);
    if (!read.ok) return fail(path, read.reason);
    const value = read.value;
    if (value === undefined || value === null) return undefined;
    if (typeof value === "string") return value.includes("\u0000") ? fail(path, NUL_REASON) : value;
    if (typeof value === "number") {
      this.coercions.push({
        kind: Number.isFinite(value) ? "number-as-text" : "non-finite-number",
        field: path,
      });
      return String(value);
    }
    if (typeof value === "boolean" || typeof value === "bigint") {
      this.coercions.push({ kind: "number-as-text", field: path });
      return String(value);
    }
    const hint = Array.isArray(value)
      ? `; pick an element (${path}[0], ${path}[-1]) or join them (${path}[*])`
      : "; pick a key inside it (column.key)";
    return fail(path, `${named(path)} holds ${describeValue(value)}, not text${hint}`);
  }

  required(path: string): string | MapRowResult {
    const text = this.text(path);
    if (isFailure(text)) return text;
    if (text === undefined) return fail(path, `${named(path)} is missing`);
    if (text.trim() === "") return fail(path, `${named(path)} is empty`);
    return text;
  }

  optional(path: string | undefined): Text {
    if (path === undefined) return undefined;
    const text = this.text(path);
    if (isFailure(text)) return text;
    return text === undefined || text.trim() === "" ? undefined : text;
  }
}

/** `column "x"` for a column, `"x[0]"` for a path into one */
const named = (path: string) => (path === pathColumn(path) ? `column "${path}"` : `"${path}"`);

const isFailure = (v: unknown): v is MapRowResult => typeof v === "object" && v !== null && "ok" in v;

function applySystemChoice(system: string | undefined, choice: SystemPromptChoice | undefined) {
  if (!choice || choice.mode === "keep") return system;
  if (choice.mode === "drop") return undefined;
  return choice.text.trim() === "" ? undefined : choice.text;
}

function mapColumns(r: RowReader, m: ColumnsMapping): MapRowResult {
  const markers = m.markers ?? THINK_MARKERS;
  const prompt = r.required(m.prompt);
  if (isFailure(prompt)) return prompt;
  const input = r.optional(m.input);
  const system = r.optional(m.system);
  const reference = r.optional(m.reference);
  for (const v of [input, system, reference]) if (isFailure(v)) return v;

  let reasoning: string | null = null;
  let answer: string;
  let think: CanonicalExample["think"];
  if (m.reasoning !== undefined) {
    const rText = r.optional(m.reasoning);
    if (isFailure(rText)) return rText;
    const a = r.required(m.answer ?? m.response ?? m.reasoning);
    if (isFailure(a)) return a;
    // a reasoning column may still carry its own markers; strip them
    reasoning = rText === undefined ? null : stripReasoningMarkers(rText, markers);
    const split = splitReasoning(a, markers);
    answer = split.status === "ok" ? split.answer : stripAnswerMarkers(a, markers);
    think = reasoning === null ? "missing" : "separate";
  } else if (m.response !== undefined) {
    const text = r.required(m.response);
    if (isFailure(text)) return text;
    const split = splitReasoning(text, markers);
    reasoning = split.reasoning;
    answer = split.answer;
    think = split.status;
  } else {
    const a = r.required(m.answer as string);
    if (isFailure(a)) return a;
    answer = stripAnswerMarkers(a, markers);
    think = "missing";
  }
  const content = typeof input === "string" ? `${prompt}\n\n${input}` : prompt;
  const example: CanonicalExample = { messages: [{ role: "user", content }], reasoning, answer, think };
  const finalSystem = applySystemChoice(system as string | undefined, m.systemPrompt);
  if (typeof finalSystem === "string") example.system = finalSystem;
  if (typeof reference === "string") example.reference = reference;
  return { ok: true, example };
}

function mapMessages(row: Record<string, unknown>, r: RowReader, m: MessagesMapping): MapRowResult {
  const markers = m.markers ?? THINK_MARKERS;
  const read = readPath(row, m.column);
  if (!read.ok) return fail(m.column, read.reason);
  const turns = decodeJsonCell(read.value);
  if (turns === undefined || turns === null) return fail(m.column, `column "${m.column}" is missing`);
  if (!Array.isArray(turns)) return fail(m.column, `column "${m.column}" is not a list of turns`);
  if (turns.length === 0) return fail(m.column, `column "${m.column}" is empty`);
  let system = r.optional(m.system);
  if (isFailure(system)) return system;
  const reference = r.optional(m.reference);
  if (isFailure(reference)) return reference;

  const messages: ChatMessage[] = [];
  let finalReasoning: string | undefined;
  for (let i = 0; i < turns.length; i++) {
    const turn = turns[i] as Record<string, unknown> | null;
    const field = `${m.column}[${i}]`;
    if (typeof turn !== "object" || turn === null) return fail(field, "turn is not an object");
    const rawRole = turn[m.roleKey];
    const role = typeof rawRole === "string" ? ROLE_ALIASES[rawRole.toLowerCase()] : undefined;
    if (role === undefined)
      return fail(`${field}.${m.roleKey}`, `unsupported role ${JSON.stringify(rawRole)}`);
    const content = turn[m.contentKey];
    if (typeof content !== "string") return fail(`${field}.${m.contentKey}`, "content is not text");
    if (content.includes("\u0000")) return fail(`${field}.${m.contentKey}`, NUL_REASON);
    if (role === "system") {
      if (i !== 0) return fail(field, "a system turn may only come first");
      system = content;
      continue;
    }
    messages.push({ role, content });
    if (i === turns.length - 1 && role === "assistant" && m.reasoningKey) {
      const rk = turn[m.reasoningKey];
      if (typeof rk === "string" && rk.includes("\u0000"))
        return fail(`${field}.${m.reasoningKey}`, NUL_REASON);
      if (typeof rk === "string" && rk.trim() !== "") finalReasoning = rk.trim();
    }
  }
  const last = messages.pop();
  if (last?.role !== "assistant") {
    return fail(m.column, "the conversation does not end with an assistant turn");
  }
  if (messages.length === 0 || messages[messages.length - 1]?.role !== "user") {
    return fail(m.column, "the assistant's final turn does not follow a user turn");
  }
  let reasoning: string | null;
  let answer: string;
  let think: CanonicalExample["think"];
  if (finalReasoning !== undefined) {
    reasoning = stripReasoningMarkers(finalReasoning, markers);
    answer = stripAnswerMarkers(last.content, markers);
    think = "separate";
  } else {
    const split = splitReasoning(last.content, markers);
    reasoning = split.reasoning;
    answer = split.answer;
    think = split.status;
  }
  if (answer === "" && reasoning === null) return fail(m.column, "the final assistant turn is empty");
  const example: CanonicalExample = { messages, reasoning, answer, think };
  const finalSystem = applySystemChoice(system as string | undefined, m.systemPrompt);
  if (typeof finalSystem === "string" && finalSystem.trim() !== "") example.system = finalSystem;
  if (typeof reference === "string") example.reference = reference;
  return { ok: true, example };
}

/** Maps one raw row; never throws on bad data, it names the field and the reason instead. */
export function mapRow(row: Record<string, unknown>, mapping: DatasetMapping): MapRowResult {
  if (typeof row !== "object" || row === null || Array.isArray(row))
    return fail("(row)", "row is not an object");
  const reader = new RowReader(row);
  const result = mapping.kind === "columns" ? mapColumns(reader, mapping) : mapMessages(row, reader, mapping);
  if (result.ok && reader.coercions.length > 0) return { ...result, coercions: reader.coercions };
  return result;
}
