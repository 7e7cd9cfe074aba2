import { parse as parseCsv } from "csv-parse/sync";
import type { PromptItem } from "./generation-config.ts";

/** Bad pasted / uploaded prompts: `field` names the request field, `line` the line in the file. */
export class PromptInputError extends Error {
  constructor(
    message: string,
    readonly field: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = "PromptInputError";
  }
}

export interface PromptTable {
  format: "jsonl" | "json" | "csv" | "tsv" | "lines";
  columns: string[];
  records: Record<string, unknown>[];
}

function formatOf(text: string, fileName?: string): PromptTable["format"] {
  const ext = fileName?.toLowerCase().match(/\.([a-z]+)$/)?.[1];
  if (ext === "jsonl" || ext === "ndjson") return "jsonl";
  if (ext === "json") return "json";
  if (ext === "csv") return "csv";
  if (ext === "tsv") return "tsv";
  if (ext === "txt") return "lines";
  const start = text.trimStart()[0];
  if (start === "[") return "json";
  if (start === "{") return "jsonl";
  return "lines";
}

const MAX_RECORDS = 100_000;

/**
 * Pasted or uploaded prompts as a table: JSONL, a JSON array of objects, CSV/TSV with a header,
 * or plain text (one prompt a line, column "prompt"). Errors name the line.
 */
export function parsePromptFile(
  text: string,
  options: { fileName?: string; field?: string } = {},
): PromptTable {
  const field = options.field ?? "body.text";
  const where = options.fileName ? `${options.fileName}: ` : "";
  if (text.trim() === "") throw new PromptInputError(`${where}the file is empty`, field);
  const format = formatOf(text, options.fileName);
  let records: Record<string, unknown>[] = [];
  if (format === "lines") {
    records = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .map((prompt) => ({ prompt }));
  } else if (format === "jsonl") {
    const lines = text.split(/\r?\n/);
    lines.forEach((l, i) => {
      if (l.trim() === "") return;
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch {
        throw new PromptInputError(`${where}line ${i + 1} is not valid JSON`, field, i + 1);
      }
      if (typeof v !== "object" || v === null || Array.isArray(v)) {
        throw new PromptInputError(`${where}line ${i + 1} is not a JSON object`, field, i + 1);
      }
      records.push(v as Record<string, unknown>);
    });
  } else if (format === "json") {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new PromptInputError(`${where}not valid JSON: ${(e as Error).message}`, field);
    }
    if (!Array.isArray(v))
      throw new PromptInputError(`${where}a JSON file must hold an array of objects`, field);
    v.forEach((r, i) => {
      if (typeof r !== "object" || r === null || Array.isArray(r)) {
        throw new PromptInputError(`${where}item ${i + 1} is not an object`, field);
      }
      records.push(r as Record<string, unknown>);
    });
  } else {
    try {
      records = parseCsv(text, {
        columns: (h: string[]) => h.map((c) => c.trim()),
        delimiter: format === "tsv" ? "\t" : ",",
        skip_empty_lines: true,
        bom: true,
      }) as Record<string, unknown>[];
    } catch (e) {
      const err = e as Error & { lines?: number };
      throw new PromptInputError(`${where}${err.message}`, field, err.lines);
    }
  }
  if (records.length === 0) throw new PromptInputError(`${where}the file has no rows`, field);
  if (records.length > MAX_RECORDS) {
    throw new PromptInputError(
      `${where}${records.length} rows: at most ${MAX_RECORDS} prompts per job`,
      field,
    );
  }
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of records.slice(0, 1000))
    for (const k of Object.keys(r))
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
  return { format, columns, records };
}

const asText = (v: unknown): string =>
  v === null || v === undefined
    ? ""
    : typeof v === "string"
      ? v
      : typeof v === "number"
        ? String(v)
        : JSON.stringify(v);

/**
 * The prompts (and references) of a table: a column that does not exist is an error naming it
 * and the columns there are; empty prompts are skipped (and counted).
 */
export function selectPrompts(
  table: PromptTable,
  columns: { prompt: string; reference?: string | null },
  fields: { prompt: string; reference: string } = {
    prompt: "body.promptColumn",
    reference: "body.referenceColumn",
  },
): { prompts: PromptItem[]; skipped: number } {
  const list = table.columns.map((c) => `"${c}"`).join(", ");
  if (!table.columns.includes(columns.prompt)) {
    throw new PromptInputError(
      `prompt column "${columns.prompt}" does not exist (columns: ${list})`,
      fields.prompt,
    );
  }
  if (columns.reference && !table.columns.includes(columns.reference)) {
    throw new PromptInputError(
      `reference column "${columns.reference}" does not exist (columns: ${list})`,
      fields.reference,
    );
  }
  const prompts: PromptItem[] = [];
  let skipped = 0;
  for (const r of table.records) {
    const prompt = asText(r[columns.prompt]).trim();
    if (prompt === "") {
      skipped++;
      continue;
    }
    const reference = columns.reference ? asText(r[columns.reference]).trim() : "";
    prompts.push(reference ? { prompt, reference } : { prompt });
  }
  if (prompts.length === 0) {
    throw new PromptInputError(`column "${columns.prompt}" is empty in every row`, fields.prompt);
  }
  return { prompts, skipped };
}
