"use client";
import type { ReactNode } from "react";
import type { FieldSpec } from "../lib/run-form-fields.ts";
import { runConfigControl } from "../lib/schema-field.ts";
import { CheckboxField, NumberField, SelectField, TextAreaField, TextField } from "./form-fields.tsx";

export type Bind = (path: string) => { value: unknown; onChange: (value: unknown) => void; error?: string };

/**
 * Any run-config field, from its spec and what the schema says it is. `hint` and `disabled`
 * let the form say why a field does not apply now (QLoRA on the CPU engine, epochs under max steps).
 */
export function ConfigField(props: { spec: FieldSpec; bind: Bind; hint?: ReactNode; disabled?: boolean }) {
  const { spec, bind } = props;
  const control = runConfigControl(spec.path);
  const b = bind(spec.path);
  const hint = props.hint ?? spec.hint;
  switch (control.kind) {
    case "number":
      return <NumberField label={spec.label} {...b} hint={hint} disabled={props.disabled} />;
    case "select":
      return (
        <SelectField
          label={spec.label}
          {...b}
          hint={hint}
          disabled={props.disabled}
          options={control.options.map((o) => ({ value: o, label: spec.optionLabels?.[o] ?? o }))}
        />
      );
    case "checkbox":
      return <CheckboxField label={spec.label} {...b} disabled={props.disabled} />;
    case "list": {
      const items = (b.value as string[] | undefined) ?? [];
      if (spec.listStyle === "lines")
        return (
          <TextAreaField
            label={spec.label}
            value={items.join("\n")}
            error={b.error}
            hint={hint}
            onChange={(v) => b.onChange(v.split("\n").filter((l) => l.trim() !== ""))}
          />
        );
      return (
        <TextField
          label={spec.label}
          value={items.join(", ")}
          error={b.error}
          hint={hint}
          disabled={props.disabled}
          onChange={(v) =>
            b.onChange(
              v
                .split(",")
                .map((s) => s.trim())
                .filter(Boolean),
            )
          }
        />
      );
    }
    default:
      return (
        <TextField
          label={spec.label}
          {...b}
          hint={hint}
          disabled={props.disabled}
          // an emptied optional text is absent, not an empty string
          onChange={(v) => b.onChange(v === "" ? undefined : v)}
        />
      );
  }
}

/** A titled section of spec'd fields with its switches below. */
export function ConfigSection(props: {
  id: string;
  title: string;
  fields: FieldSpec[];
  switches?: FieldSpec[];
  bind: Bind;
  override?: (spec: FieldSpec) => { hint?: ReactNode; disabled?: boolean } | undefined;
  children?: ReactNode;
}) {
  return (
    <section className="panel" aria-labelledby={`sec-${props.id}`}>
      <h2 id={`sec-${props.id}`} className="panel-title">
        {props.title}
      </h2>
      <div className="form-grid">
        {props.fields.map((f) => (
          <ConfigField key={f.path} spec={f} bind={props.bind} {...props.override?.(f)} />
        ))}
      </div>
      {props.children}
      {props.switches && (
        <div className="row">
          {props.switches.map((f) => (
            <ConfigField key={f.path} spec={f} bind={props.bind} {...props.override?.(f)} />
          ))}
        </div>
      )}
    </section>
  );
}
