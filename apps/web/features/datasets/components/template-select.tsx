"use client";
import { TEMPLATE_OPTIONS } from "../lib/render-example.ts";

export function TemplateSelect({
  value,
  onChange,
  id = "template",
}: {
  value: string;
  onChange: (v: string) => void;
  id?: string;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>Chat template</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {TEMPLATE_OPTIONS.map((t) => (
          <option key={t.id} value={t.id}>
            {t.label}
          </option>
        ))}
      </select>
    </div>
  );
}
