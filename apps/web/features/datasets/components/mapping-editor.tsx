"use client";
import { type DatasetMapping, mapRow, ZDatasetMapping } from "@distillery/core";
import { RenderedExample } from "./rendered-example.tsx";

const COLUMN_FIELDS = [
  { key: "prompt", label: "Prompt", required: true },
  { key: "input", label: "Input (appended to the prompt)" },
  { key: "system", label: "System prompt" },
  { key: "response", label: "Response (reasoning in <think>)" },
  { key: "reasoning", label: "Reasoning (own column)" },
  { key: "answer", label: "Answer" },
  { key: "reference", label: "Reference answer" },
] as const;

const MESSAGE_FIELDS = [
  { key: "system", label: "System prompt" },
  { key: "reference", label: "Reference answer" },
] as const;

export type MappingDraft = Record<string, string> & { kind: "columns" | "messages" };

/** A draft (plain strings, "" = unmapped) to a mapping, or the first problem with it. */
export function parseDraft(draft: MappingDraft): { mapping: DatasetMapping } | { error: string } {
  const clean = Object.fromEntries(Object.entries(draft).filter(([, v]) => v !== ""));
  const parsed = ZDatasetMapping.safeParse(clean);
  if (parsed.success) return { mapping: parsed.data };
  const issue = parsed.error.issues[0];
  return { error: `${issue?.path.join(".") || "mapping"}: ${issue?.message}` };
}

export function draftFromMapping(
  mapping: DatasetMapping | null | undefined,
  columns: string[],
): MappingDraft {
  if (mapping)
    return Object.fromEntries(Object.entries(mapping).map(([k, v]) => [k, String(v ?? "")])) as MappingDraft;
  return { kind: "columns", prompt: columns[0] ?? "", answer: columns[1] ?? "" };
}

function ColumnSelect(props: {
  id: string;
  label: string;
  value: string;
  columns: string[];
  isRequired?: boolean;
  onChange: (v: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        {!props.isRequired && <option value="">(none)</option>}
        {props.isRequired && props.value === "" && <option value="">pick a column</option>}
        {props.columns.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    </div>
  );
}

/**
 * Column mapping with a live preview: every change re-maps the first rows with the same mapRow
 * the import runs, and renders them with the chosen template, all in the browser.
 */
export function MappingEditor(props: {
  columns: string[];
  rows: Record<string, unknown>[];
  draft: MappingDraft;
  onChange: (draft: MappingDraft) => void;
  templateId: string;
}) {
  const { draft, columns } = props;
  const set = (key: string, value: string) => props.onChange({ ...draft, [key]: value });
  const parsed = parseDraft(draft);
  const previews =
    "mapping" in parsed ? props.rows.slice(0, 5).map((row) => mapRow(row, parsed.mapping)) : [];
  return (
    <div className="mapping" data-testid="mapping-editor">
      <div className="row">
        <div className="field">
          <label htmlFor="mapping-kind">Row layout</label>
          <select
            id="mapping-kind"
            value={draft.kind}
            onChange={(e) =>
              props.onChange(
                e.target.value === "messages"
                  ? { kind: "messages", column: columns[0] ?? "", roleKey: "role", contentKey: "content" }
                  : { kind: "columns", prompt: columns[0] ?? "", answer: columns[1] ?? "" },
              )
            }
          >
            <option value="columns">One column per field</option>
            <option value="messages">A list of turns (messages / conversations)</option>
          </select>
        </div>
      </div>
      <div className="mapping-grid">
        {draft.kind === "columns" ? (
          COLUMN_FIELDS.map((f) => (
            <ColumnSelect
              key={f.key}
              id={`map-${f.key}`}
              label={f.label}
              value={draft[f.key] ?? ""}
              columns={columns}
              isRequired={"required" in f}
              onChange={(v) => set(f.key, v)}
            />
          ))
        ) : (
          <>
            <ColumnSelect
              id="map-column"
              label="Turns column"
              value={draft.column ?? ""}
              columns={columns}
              isRequired
              onChange={(v) => set("column", v)}
            />
            {(["roleKey", "contentKey", "reasoningKey"] as const).map((k) => (
              <div className="field" key={k}>
                <label htmlFor={`map-${k}`}>
                  {k === "roleKey" ? "Role key" : k === "contentKey" ? "Content key" : "Reasoning key"}
                </label>
                <input id={`map-${k}`} value={draft[k] ?? ""} onChange={(e) => set(k, e.target.value)} />
              </div>
            ))}
            {MESSAGE_FIELDS.map((f) => (
              <ColumnSelect
                key={f.key}
                id={`map-${f.key}`}
                label={f.label}
                value={draft[f.key] ?? ""}
                columns={columns}
                onChange={(v) => set(f.key, v)}
              />
            ))}
          </>
        )}
      </div>
      {"error" in parsed && (
        <p className="error" data-testid="mapping-error">
          {parsed.error}
        </p>
      )}
      <h3 className="panel-title">Live preview</h3>
      <div data-testid="mapping-preview">
        {previews.map((r, i) =>
          r.ok ? (
            // biome-ignore lint/suspicious/noArrayIndexKey: preview rows are positional
            <div key={i} className="preview-row" data-testid="preview-row">
              <div className="muted small">
                row {i + 1} · think: {r.example.think}
                {r.example.reasoning !== null ? ` · reasoning ${r.example.reasoning.length} chars` : ""}
              </div>
              <RenderedExample example={r.example} templateId={props.templateId} />
            </div>
          ) : (
            // biome-ignore lint/suspicious/noArrayIndexKey: preview rows are positional
            <p key={i} className="error" data-testid="preview-row-error">
              row {i + 1}: {r.reason}
            </p>
          ),
        )}
      </div>
    </div>
  );
}
