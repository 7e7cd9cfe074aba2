"use client";
import { useTokenizerModels } from "../hooks/use-datasets.ts";

/** "" = the default: the first of the list (the newest model the user brought), else bytes. */
export function TokenizerSelect({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const models = useTokenizerModels();
  const first = models.data?.[0];
  return (
    <div className="field">
      <label htmlFor="tokenizer">Tokenizer for statistics</label>
      <select id="tokenizer" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Default ({first ? first.name : "bytes: no model has a tokenizer.json"})</option>
        {(models.data ?? []).map((m) => (
          <option key={m.id} value={m.id}>
            {m.name}
          </option>
        ))}
      </select>
    </div>
  );
}
