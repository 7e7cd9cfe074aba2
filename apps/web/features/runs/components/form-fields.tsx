"use client";
import { type ReactNode, useId, useState } from "react";

interface FieldProps {
  label: string;
  error?: string;
  hint?: ReactNode;
}

function FieldShell({ id, label, error, hint, children }: FieldProps & { id: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && !error && <span className="muted hint">{hint}</span>}
      {error && (
        <span className="error" data-testid={`error-${label}`}>
          {error}
        </span>
      )}
    </div>
  );
}

/**
 * A number input that keeps what the person typed ("2e-" mid-edit): the config gets a number
 * when the text is one, otherwise the raw text, which the schema then names as invalid.
 */
export function NumberField(
  props: FieldProps & {
    value: unknown;
    onChange: (v: number | string) => void;
    step?: string;
    disabled?: boolean;
  },
) {
  const id = useId();
  const [text, setText] = useState(
    props.value === undefined || props.value === null ? "" : String(props.value),
  );
  return (
    <FieldShell id={id} {...props}>
      <input
        id={id}
        inputMode="decimal"
        value={text}
        disabled={props.disabled}
        aria-invalid={props.error ? true : undefined}
        onChange={(e) => {
          setText(e.target.value);
          const t = e.target.value.trim();
          const n = Number(t);
          props.onChange(t !== "" && Number.isFinite(n) ? n : e.target.value);
        }}
      />
    </FieldShell>
  );
}

export function TextField(
  props: FieldProps & {
    value: unknown;
    onChange: (v: string) => void;
    placeholder?: string;
    list?: string;
    disabled?: boolean;
  },
) {
  const id = useId();
  return (
    <FieldShell id={id} {...props}>
      <input
        id={id}
        value={typeof props.value === "string" ? props.value : ""}
        placeholder={props.placeholder}
        list={props.list}
        disabled={props.disabled}
        aria-invalid={props.error ? true : undefined}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </FieldShell>
  );
}

export function TextAreaField(
  props: FieldProps & { value: string; onChange: (v: string) => void; rows?: number; placeholder?: string },
) {
  const id = useId();
  return (
    <FieldShell id={id} {...props}>
      <textarea
        id={id}
        rows={props.rows ?? 3}
        value={props.value}
        placeholder={props.placeholder}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </FieldShell>
  );
}

export function SelectField(
  props: FieldProps & {
    value: unknown;
    onChange: (v: string) => void;
    options: readonly (string | { value: string; label: string })[];
    placeholder?: string;
    disabled?: boolean;
  },
) {
  const id = useId();
  return (
    <FieldShell id={id} {...props}>
      <select
        id={id}
        value={typeof props.value === "string" ? props.value : ""}
        disabled={props.disabled}
        aria-invalid={props.error ? true : undefined}
        onChange={(e) => props.onChange(e.target.value)}
      >
        {props.placeholder !== undefined && <option value="">{props.placeholder}</option>}
        {props.options.map((o) => {
          const opt = typeof o === "string" ? { value: o, label: o } : o;
          return (
            <option key={opt.value} value={opt.value}>
              {opt.label}
            </option>
          );
        })}
      </select>
    </FieldShell>
  );
}

export function CheckboxField(props: {
  label: string;
  value: unknown;
  onChange: (v: boolean) => void;
  disabled?: boolean;
  /** a rule across fields can name a checkbox (export.pushMerged) */
  error?: string;
}) {
  return (
    <label className="checkbox">
      <input
        type="checkbox"
        checked={props.value === true}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.target.checked)}
      />{" "}
      {props.label}
      {props.error && (
        <span className="error" data-testid={`error-${props.label}`}>
          {" "}
          {props.error}
        </span>
      )}
    </label>
  );
}
