"use client";
import type { CanonicalExample, SystemPromptChoice } from "@distillery/core";

/** A system prompt at least this long, the same on every previewed row, is shown once. */
export const SHARED_SYSTEM_MIN_CHARS = 200;

/** The system prompt every previewed row shares, when it is long enough to matter. */
export function findSharedSystemPrompt(examples: CanonicalExample[]): string | null {
  const first = examples[0]?.system;
  if (!first || first.length < SHARED_SYSTEM_MIN_CHARS) return null;
  return examples.every((e) => e.system === first) ? first : null;
}

/**
 * A long system prompt on every row (Stratos' is ~1.4k tokens) shown once, with what to do with
 * it: keep it on every row, drop it, or replace it with a shorter one.
 */
export function SharedSystemPrompt(props: {
  text: string;
  value: SystemPromptChoice | undefined;
  onChange: (choice: SystemPromptChoice) => void;
}) {
  const mode = props.value?.mode ?? "keep";
  const words = props.text.trim().split(/\s+/).length;
  return (
    <fieldset className="shared-system" data-testid="shared-system-prompt">
      <legend>
        Every row has the same system prompt ({props.text.length.toLocaleString("en-US")} characters,{" "}
        {words.toLocaleString("en-US")} words)
      </legend>
      <details>
        <summary>Show it</summary>
        <pre className="rendered">{props.text}</pre>
      </details>
      <div className="row" role="radiogroup" aria-label="Shared system prompt">
        {(
          [
            ["keep", "Keep it on every row"],
            ["drop", "Drop it"],
            ["replace", "Replace it"],
          ] as const
        ).map(([m, label]) => (
          <label key={m} className="field-inline">
            <input
              type="radio"
              name="shared-system"
              value={m}
              checked={mode === m}
              onChange={() => props.onChange(m === "replace" ? { mode: "replace", text: "" } : { mode: m })}
            />
            {label}
          </label>
        ))}
      </div>
      {props.value?.mode === "replace" && (
        <div className="field">
          <label htmlFor="shared-system-text">Replacement system prompt</label>
          <textarea
            id="shared-system-text"
            rows={3}
            value={props.value.text}
            onChange={(e) => props.onChange({ mode: "replace", text: e.target.value })}
          />
        </div>
      )}
    </fieldset>
  );
}
