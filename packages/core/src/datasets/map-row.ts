import type { CanonicalExample, ChatMessage } from "./canonical-example.ts";
import {
  type ColumnsMapping,
  type DatasetMapping,
  type MessagesMapping,
  ROLE_ALIASES,
} from "./dataset-mapping.ts";
import { splitReasoning } from "./split-reasoning.ts";

export type MapRowResult =
  | { ok: true; example: CanonicalExample }
  | { ok: false; field: string; reason: string };

const fail = (field: string, reason: string): MapRowResult => ({ ok: false, field, reason });

/** Strings pass; numbers and booleans become text (CSV/Parquet columns); anything else is an error. */
function readText(row: Record<string, unknown>, column: string): string | undefined | Error {
  const value = row[column];
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  return new Error(`column "${column}" holds ${Array.isArray(value) ? "a list" : typeof value}, not text`);
}

function readRequired(row: Record<string, unknown>, column: string): string | MapRowResult {
  const text = readText(row, column);
  if (text instanceof Error) return fail(column, text.message);
  if (text === undefined) return fail(column, `column "${column}" is missing`);
  if (text.trim() === "") return fail(column, `column "${column}" is empty`);
  return text;
}

function readOptional(
  row: Record<string, unknown>,
  column: string | undefined,
): string | undefined | MapRowResult {
  if (column === undefined) return undefined;
  const text = readText(row, column);
  if (text instanceof Error) return fail(column, text.message);
  return text === undefined || text.trim() === "" ? undefined : text;
}

const isFailure = (v: unknown): v is MapRowResult => typeof v === "object" && v !== null && "ok" in v;

function mapColumns(row: Record<string, unknown>, m: ColumnsMapping): MapRowResult {
  const prompt = readRequired(row, m.prompt);
  if (isFailure(prompt)) return prompt;
  const input = readOptional(row, m.input);
  const system = readOptional(row, m.system);
  const reference = readOptional(row, m.reference);
  for (const v of [input, system, reference]) if (isFailure(v)) return v;

  let reasoning: string | null = null;
  let answer: string;
  let think: CanonicalExample["think"];
  if (m.reasoning !== undefined) {
    const r = readOptional(row, m.reasoning);
    if (isFailure(r)) return r;
    const a = readRequired(row, m.answer ?? m.response ?? m.reasoning);
    if (isFailure(a)) return a;
    // a reasoning column may still carry its own tags; strip them
    reasoning =
      r === undefined
        ? null
        : r
            .replace(/^\s*<think>/, "")
            .replace(/<\/think>\s*$/, "")
            .trim();
    const split = splitReasoning(a);
    answer = split.status === "ok" ? split.answer : a.trim();
    think = reasoning === null ? "missing" : "separate";
  } else if (m.response !== undefined) {
    const text = readRequired(row, m.response);
    if (isFailure(text)) return text;
    const split = splitReasoning(text);
    reasoning = split.reasoning;
    answer = split.answer;
    think = split.status;
  } else {
    const a = readRequired(row, m.answer as string);
    if (isFailure(a)) return a;
    answer = a.trim();
    think = "missing";
  }
  const content = typeof input === "string" ? `${prompt}\n\n${input}` : prompt;
  const example: CanonicalExample = { messages: [{ role: "user", content }], reasoning, answer, think };
  if (typeof system === "string") example.system = system;
  if (typeof reference === "string") example.reference = reference;
  return { ok: true, example };
}

function mapMessages(row: Record<string, unknown>, m: MessagesMapping): MapRowResult {
  const turns = row[m.column];
  if (turns === undefined || turns === null) return fail(m.column, `column "${m.column}" is missing`);
  if (!Array.isArray(turns)) return fail(m.column, `column "${m.column}" is not a list of turns`);
  if (turns.length === 0) return fail(m.column, `column "${m.column}" is empty`);
  let system = readOptional(row, m.system);
  if (isFailure(system)) return system;
  const reference = readOptional(row, m.reference);
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
    if (role === "system") {
      if (i !== 0) return fail(field, "a system turn may only come first");
      system = content;
      continue;
    }
    messages.push({ role, content });
    if (i === turns.length - 1 && role === "assistant" && m.reasoningKey) {
      const r = turn[m.reasoningKey];
      if (typeof r === "string" && r.trim() !== "") finalReasoning = r.trim();
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
    reasoning = finalReasoning;
    answer = last.content.trim();
    think = "separate";
  } else {
    const split = splitReasoning(last.content);
    reasoning = split.reasoning;
    answer = split.answer;
    think = split.status;
  }
  if (answer === "" && reasoning === null) return fail(m.column, "the final assistant turn is empty");
  const example: CanonicalExample = { messages, reasoning, answer, think };
  if (typeof system === "string" && system.trim() !== "") example.system = system;
  if (typeof reference === "string") example.reference = reference;
  return { ok: true, example };
}

/** Maps one raw row; never throws on bad data, it names the field and the reason instead. */
export function mapRow(row: Record<string, unknown>, mapping: DatasetMapping): MapRowResult {
  if (typeof row !== "object" || row === null || Array.isArray(row))
    return fail("(row)", "row is not an object");
  return mapping.kind === "columns" ? mapColumns(row, mapping) : mapMessages(row, mapping);
}
