"use client";
import { useState } from "react";
import { ApiError } from "@/lib/client/api.ts";
import { type TeacherForm, useAddTeacher } from "../hooks/use-teachers.ts";

const EMPTY: TeacherForm = {
  name: "",
  api: "openai",
  baseUrl: "",
  model: "",
  apiKey: "",
  priceInPerM: 0,
  priceOutPerM: 0,
};

/** Add an endpoint: name, base URL, API key, model, prices per 1M input / output tokens. */
export function AddTeacherForm({ onAdded }: { onAdded: (id: string) => void }) {
  const [form, setForm] = useState<TeacherForm>(EMPTY);
  const add = useAddTeacher();
  const err = add.error instanceof ApiError ? add.error : null;
  const set = <K extends keyof TeacherForm>(k: K, v: TeacherForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const fieldError = (f: string) => err?.fieldError(`body.${f}`);
  return (
    <form
      className="panel"
      data-testid="add-teacher-form"
      onSubmit={(e) => {
        e.preventDefault();
        const { apiKey, ...rest } = form;
        add.mutate(apiKey ? { ...rest, apiKey } : rest, {
          onSuccess: (t) => {
            setForm(EMPTY);
            onAdded(t.id);
          },
        });
      }}
    >
      <h3 className="panel-title">Add a teacher</h3>
      <div className="grid">
        <div className="field">
          <label htmlFor="t-name">Name</label>
          <input
            id="t-name"
            value={form.name}
            onChange={(e) => set("name", e.target.value)}
            placeholder="DeepSeek R1"
          />
          {fieldError("name") && <span className="error">{fieldError("name")}</span>}
        </div>
        <div className="field">
          <label htmlFor="t-api">Protocol</label>
          <select
            id="t-api"
            value={form.api}
            onChange={(e) => set("api", e.target.value as TeacherForm["api"])}
          >
            <option value="openai">OpenAI-compatible (/v1/chat/completions)</option>
            <option value="ollama">ollama native (/api/chat, think: true)</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="t-url">Base URL</label>
          <input
            id="t-url"
            value={form.baseUrl}
            onChange={(e) => set("baseUrl", e.target.value)}
            placeholder="https://api.deepseek.com/v1 · http://localhost:8000/v1 · http://localhost:11434"
          />
          {fieldError("baseUrl") && <span className="error">{fieldError("baseUrl")}</span>}
        </div>
        <div className="field">
          <label htmlFor="t-model">Model</label>
          <input
            id="t-model"
            value={form.model}
            onChange={(e) => set("model", e.target.value)}
            placeholder="deepseek-reasoner"
          />
          {fieldError("model") && <span className="error">{fieldError("model")}</span>}
        </div>
        <div className="field">
          <label htmlFor="t-key">API key (stored encrypted, never shown again)</label>
          <input
            id="t-key"
            type="password"
            autoComplete="off"
            value={form.apiKey ?? ""}
            onChange={(e) => set("apiKey", e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="t-pin">Price per 1M input tokens</label>
          <input
            id="t-pin"
            type="number"
            min={0}
            step="any"
            value={form.priceInPerM}
            onChange={(e) => set("priceInPerM", Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor="t-pout">Price per 1M output tokens</label>
          <input
            id="t-pout"
            type="number"
            min={0}
            step="any"
            value={form.priceOutPerM}
            onChange={(e) => set("priceOutPerM", Number(e.target.value))}
          />
        </div>
      </div>
      {add.error && !err?.errors.length && <p className="error">{add.error.message}</p>}
      <button type="submit" disabled={add.isPending} data-testid="add-teacher">
        {add.isPending ? "Adding…" : "Add teacher"}
      </button>
    </form>
  );
}
