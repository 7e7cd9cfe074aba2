"use client";
import { useState } from "react";
import { type TeacherView, useEditTeacher } from "../hooks/use-teachers.ts";

/** Change a teacher's endpoint, model or prices; a new key replaces the stored one (never shown). */
export function EditTeacherForm({ teacher, onDone }: { teacher: TeacherView; onDone: () => void }) {
  const edit = useEditTeacher();
  const [baseUrl, setBaseUrl] = useState(teacher.baseUrl);
  const [model, setModel] = useState(teacher.model);
  const [priceInPerM, setPriceIn] = useState(teacher.priceInPerM);
  const [priceOutPerM, setPriceOut] = useState(teacher.priceOutPerM);
  const [apiKey, setApiKey] = useState("");
  const [isKeyRemoved, setIsKeyRemoved] = useState(false);
  return (
    <form
      className="panel"
      data-testid="edit-teacher-form"
      onSubmit={(e) => {
        e.preventDefault();
        const patch = {
          baseUrl,
          model,
          priceInPerM,
          priceOutPerM,
          ...(isKeyRemoved ? { apiKey: "" } : apiKey ? { apiKey } : {}),
        };
        edit.mutate({ id: teacher.id, patch }, { onSuccess: onDone });
      }}
    >
      <h3 className="panel-title">Edit {teacher.name}</h3>
      <div className="grid">
        <div className="field">
          <label htmlFor="e-url">Base URL</label>
          <input id="e-url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="e-model">Model</label>
          <input id="e-model" value={model} onChange={(e) => setModel(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="e-key">New API key (empty keeps the stored one)</label>
          <input
            id="e-key"
            type="password"
            autoComplete="off"
            value={apiKey}
            onChange={(e) => setApiKey(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="e-pin">Price per 1M input tokens</label>
          <input
            id="e-pin"
            type="number"
            min={0}
            step="any"
            value={priceInPerM}
            onChange={(e) => setPriceIn(Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor="e-pout">Price per 1M output tokens</label>
          <input
            id="e-pout"
            type="number"
            min={0}
            step="any"
            value={priceOutPerM}
            onChange={(e) => setPriceOut(Number(e.target.value))}
          />
        </div>
      </div>
      {teacher.hasApiKey && (
        <label className="row">
          <input type="checkbox" checked={isKeyRemoved} onChange={(e) => setIsKeyRemoved(e.target.checked)} />{" "}
          remove the stored key
        </label>
      )}
      {edit.error && <p className="error">{edit.error.message}</p>}
      <div className="row">
        <button type="submit" disabled={edit.isPending}>
          Save
        </button>
        <button type="button" onClick={onDone}>
          Close
        </button>
      </div>
    </form>
  );
}
