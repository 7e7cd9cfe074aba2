"use client";
import { useId } from "react";
import type { TeacherLogitsChoicesRequest } from "@/features/datasets/server/teacher-logits-choices.ts";
import { useTeacherLogitsChoices } from "../hooks/use-runs.ts";
import { getAtPath } from "../lib/config-path.ts";
import { formatBytes } from "../lib/teacher-cost.ts";
import type { Bind } from "./config-field.tsx";

const FIELD = "distillation.teacherLogits";

/** The launch's view of the form, as the choices route checks each artifact against it. */
export function teacherLogitsDraft(config: Record<string, unknown>): TeacherLogitsChoicesRequest {
  const systemPrompt = getAtPath(config, "data.systemPrompt");
  const topK = getAtPath(config, "distillation.topK");
  const maxSeqLength = Number(getAtPath(config, "training.maxSeqLength"));
  return {
    datasetVersionId: String(getAtPath(config, "data.datasetVersionId") ?? ""),
    student: String(getAtPath(config, "model.id") ?? ""),
    template: String(getAtPath(config, "data.template") ?? ""),
    systemPrompt: typeof systemPrompt === "string" ? systemPrompt : null,
    maxSeqLength: Number.isInteger(maxSeqLength) && maxSeqLength > 0 ? maxSeqLength : 1,
    topK: typeof topK === "number" && Number.isInteger(topK) ? topK : null,
    specialTokens: ((getAtPath(config, "specialTokens") as unknown[] | undefined) ?? []).map(String),
  };
}

/**
 * Logit mode: read a stored teacher-logits artifact of the run's dataset version instead of
 * running the teacher. Each artifact of the workspace is listed with the launch's verdict for
 * the form as it stands (the server runs the launch's own check on the draft): those the launch
 * would refuse are disabled with its reason. The choice is `distillation.teacherLogits.artifactId`.
 */
export function TeacherLogitsPicker(props: { config: Record<string, unknown>; bind: Bind }) {
  const { config } = props;
  const name = useId();
  const refBind = props.bind(FIELD);
  const chosen = String(getAtPath(config, `${FIELD}.artifactId`) ?? "");
  const draft = teacherLogitsDraft(config);
  const choices = useTeacherLogitsChoices(draft, draft.template !== "");
  const list = choices.data ?? [];
  const picked = list.find((a) => a.id === chosen);
  const error = props.bind(`${FIELD}.artifactId`).error ?? refBind.error;
  return (
    <fieldset className="field" data-testid="teacher-logits-picker">
      <legend>Stored teacher logits</legend>
      <span className="muted hint">
        the teacher's top-k log-probabilities computed once for a dataset version (its Teacher logits panel);
        a run reading them does not load the teacher
      </span>
      <label className="row">
        <input
          type="radio"
          name={name}
          value=""
          checked={chosen === ""}
          onChange={() => refBind.onChange(undefined)}
        />
        none: run the teacher beside the student
      </label>
      {choices.isLoading && <span className="muted">loading the stored teacher logits…</span>}
      {choices.error && <span className="error">{choices.error.message}</span>}
      {!choices.isLoading && list.length === 0 && (
        <span className="muted">no stored teacher logits in this workspace yet</span>
      )}
      {list.length > 0 && (
        <table data-testid="teacher-logits-choices">
          <thead>
            <tr>
              <th />
              <th>Teacher</th>
              <th>k</th>
              <th>Max length</th>
              <th>Size</th>
              <th>Status</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {list.map((a) => {
              const isRefused = a.refusal !== null;
              return (
                <tr
                  key={a.id}
                  data-testid="teacher-logits-choice"
                  className={isRefused ? "muted" : undefined}
                >
                  <td>
                    <input
                      type="radio"
                      name={name}
                      value={a.id}
                      aria-label={`${a.teacherName} ${a.id}`}
                      checked={chosen === a.id}
                      disabled={isRefused && chosen !== a.id}
                      onChange={() => refBind.onChange({ artifactId: a.id })}
                    />
                  </td>
                  <td>
                    {a.teacherName} <span className="mono muted">{a.id}</span>
                    {a.refusal && (
                      <div className="muted" data-testid="teacher-logits-refusal">
                        {a.refusal.reason}
                      </div>
                    )}
                  </td>
                  <td>{a.k}</td>
                  <td>{a.maxSeqLength}</td>
                  <td>{a.bytes > 0 ? formatBytes(a.bytes) : "—"}</td>
                  <td>{a.status}</td>
                  <td>{new Date(a.createdAt).toLocaleString()}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {chosen && !error && picked?.refusal && (
        <span className="warn-text" data-testid="teacher-logits-picked-refusal">
          the chosen artifact no longer fits this run: {picked.refusal.reason}
        </span>
      )}
      {error && (
        <span className="error" data-testid="error-Stored teacher logits">
          {error}
        </span>
      )}
    </fieldset>
  );
}
