"use client";
import {
  type CanonicalExample,
  DATASET_SHAPE_LABELS,
  type DatasetMapping,
  mapRow,
  nameShape,
  type ReasoningMarkers,
  type SystemPromptChoice,
  suggestPaths,
  ZDatasetMapping,
} from "@distillery/core";
import { ColumnOverview } from "./column-overview.tsx";
import { MarkersField } from "./markers-field.tsx";
import { RenderedExample } from "./rendered-example.tsx";
import { findSharedSystemPrompt, SharedSystemPrompt } from "./shared-system-prompt.tsx";

const COLUMN_FIELDS = [
  { key: "prompt", label: "Prompt", required: true },
  { key: "input", label: "Input (appended to the prompt)" },
  { key: "system", label: "System prompt" },
  { key: "response", label: "Response (reasoning inside markers)" },
  { key: "reasoning", label: "Reasoning (own column)" },
  { key: "answer", label: "Answer" },
  { key: "reference", label: "Reference answer" },
] as const;

const MESSAGE_FIELDS = [
  { key: "system", label: "System prompt" },
  { key: "reference", label: "Reference answer" },
] as const;

/** The editor's state: plain strings per field ("" = unmapped), plus markers and the system choice. */
export interface MappingDraft {
  kind: "columns" | "messages";
  fields: Record<string, string>;
  markers?: ReasoningMarkers;
  systemPrompt?: SystemPromptChoice;
}

/** A draft to a mapping, or the first problem with it. */
export function parseDraft(draft: MappingDraft): { mapping: DatasetMapping } | { error: string } {
  const fields = Object.fromEntries(Object.entries(draft.fields).filter(([, v]) => v.trim() !== ""));
  const parsed = ZDatasetMapping.safeParse({
    kind: draft.kind,
    ...fields,
    ...(draft.markers ? { markers: draft.markers } : {}),
    ...(draft.systemPrompt && draft.systemPrompt.mode !== "keep" ? { systemPrompt: draft.systemPrompt } : {}),
  });
  if (parsed.success) return { mapping: parsed.data };
  const issue = parsed.error.issues[0];
  return { error: `${issue?.path.join(".") || "mapping"}: ${issue?.message}` };
}

/**
 * The detected mapping as a draft; with none, an empty one: nothing is guessed (a guess once
 * swapped s1K's question and solution with the import enabled).
 */
export function draftFromMapping(mapping: DatasetMapping | null | undefined): MappingDraft {
  if (!mapping) return { kind: "columns", fields: {} };
  const { kind, markers, systemPrompt, ...rest } = mapping;
  return {
    kind,
    fields: Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, String(v ?? "")])),
    ...(markers ? { markers } : {}),
    ...(systemPrompt ? { systemPrompt } : {}),
  };
}

/** A column or a path into one (typed, or picked from the columns and the paths inside them). */
function PathField(props: {
  id: string;
  label: string;
  value: string;
  options: string[];
  isRequired?: boolean;
  onChange: (v: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>
        {props.label}
        {props.isRequired ? " *" : ""}
      </label>
      <input
        id={props.id}
        className="mono"
        list={`${props.id}-options`}
        placeholder={props.isRequired ? "pick a column" : "(none)"}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
      />
      <datalist id={`${props.id}-options`}>
        {props.options.map((c) => (
          <option key={c} value={c} />
        ))}
      </datalist>
    </div>
  );
}

/**
 * Column mapping with a live preview: every change re-maps the first rows with the same mapRow
 * the import runs, and renders them with the chosen template, all in the browser. The shape
 * name comes from `nameShape`, as the import's does, so both say the same.
 */
export function MappingEditor(props: {
  columns: string[];
  rows: Record<string, unknown>[];
  draft: MappingDraft;
  onChange: (draft: MappingDraft) => void;
  templateId: string;
}) {
  const { draft, columns, rows } = props;
  const set = (key: string, value: string) =>
    props.onChange({ ...draft, fields: { ...draft.fields, [key]: value } });
  const parsed = parseDraft(draft);
  const isEmpty = Object.values(draft.fields).every((v) => v.trim() === "");
  const previews = "mapping" in parsed ? rows.slice(0, 5).map((row) => mapRow(row, parsed.mapping)) : [];
  const sharedSystem = findSharedSystemPrompt(
    // the shared prompt is judged before the keep/drop/replace choice applies
    "mapping" in parsed
      ? rows
          .map((row) => mapRow(row, { ...parsed.mapping, systemPrompt: { mode: "keep" } }))
          .flatMap((r) => (r.ok ? [r.example] : []))
      : ([] as CanonicalExample[]),
  );
  const shape = "mapping" in parsed ? nameShape(rows, parsed.mapping) : null;
  const options = [...columns, ...columns.flatMap((c) => suggestPaths(c, rows[0]?.[c]))];
  return (
    <div className="mapping" data-testid="mapping-editor">
      {isEmpty && (
        <p className="notice" data-testid="mapping-ask">
          The columns do not match a shape the studio knows. Choose which columns hold the prompt and the
          answer (and the reasoning, if it has its own column); the first values of each column are below.
        </p>
      )}
      <details open={isEmpty || shape === "custom"}>
        <summary>Columns and their first values</summary>
        <ColumnOverview columns={columns} rows={rows} />
      </details>
      <div className="row">
        <div className="field">
          <label htmlFor="mapping-kind">Row layout</label>
          <select
            id="mapping-kind"
            value={draft.kind}
            onChange={(e) =>
              props.onChange({
                kind: e.target.value === "messages" ? "messages" : "columns",
                fields:
                  e.target.value === "messages" ? { column: "", roleKey: "role", contentKey: "content" } : {},
                ...(draft.markers ? { markers: draft.markers } : {}),
              })
            }
          >
            <option value="columns">One column per field</option>
            <option value="messages">A list of turns (messages / conversations)</option>
          </select>
        </div>
        <p className="muted" data-testid="mapping-shape">
          Shape: <strong>{shape ? DATASET_SHAPE_LABELS[shape] : "none yet"}</strong>
        </p>
      </div>
      <div className="mapping-grid">
        {draft.kind === "columns" ? (
          COLUMN_FIELDS.map((f) => (
            <PathField
              key={f.key}
              id={`map-${f.key}`}
              label={f.label}
              value={draft.fields[f.key] ?? ""}
              options={options}
              isRequired={"required" in f}
              onChange={(v) => set(f.key, v)}
            />
          ))
        ) : (
          <>
            <PathField
              id="map-column"
              label="Turns column"
              value={draft.fields.column ?? ""}
              options={options}
              isRequired
              onChange={(v) => set("column", v)}
            />
            {(["roleKey", "contentKey", "reasoningKey"] as const).map((k) => (
              <div className="field" key={k}>
                <label htmlFor={`map-${k}`}>
                  {k === "roleKey" ? "Role key" : k === "contentKey" ? "Content key" : "Reasoning key"}
                </label>
                <input
                  id={`map-${k}`}
                  value={draft.fields[k] ?? ""}
                  onChange={(e) => set(k, e.target.value)}
                />
              </div>
            ))}
            {MESSAGE_FIELDS.map((f) => (
              <PathField
                key={f.key}
                id={`map-${f.key}`}
                label={f.label}
                value={draft.fields[f.key] ?? ""}
                options={options}
                onChange={(v) => set(f.key, v)}
              />
            ))}
          </>
        )}
      </div>
      <MarkersField
        value={draft.markers}
        onChange={(markers) => {
          const { markers: _old, ...rest } = draft;
          props.onChange(markers ? { ...rest, markers } : rest);
        }}
      />
      {sharedSystem && (
        <SharedSystemPrompt
          text={sharedSystem}
          value={draft.systemPrompt}
          onChange={(systemPrompt) => props.onChange({ ...draft, systemPrompt })}
        />
      )}
      {"error" in parsed && !isEmpty && (
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
              <dl className="split-fields">
                <dt>Reasoning</dt>
                <dd data-testid="preview-reasoning">{r.example.reasoning ?? "(none)"}</dd>
                <dt>Answer</dt>
                <dd data-testid="preview-answer">{r.example.answer}</dd>
              </dl>
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
      {isEmpty && <p className="muted">The preview appears once the prompt and the answer are mapped.</p>}
    </div>
  );
}
