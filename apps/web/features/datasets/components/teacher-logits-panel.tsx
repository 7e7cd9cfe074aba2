"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTeachers } from "@/features/teachers/hooks/use-teachers.ts";
import { fetchJson } from "@/lib/client/api.ts";
import { useTokenizerModels } from "../hooks/use-datasets.ts";
import type { TeacherLogitsRequest, TeacherLogitsView } from "../server/teacher-logits.ts";
import { TemplateSelect } from "./template-select.tsx";

const ACTIVE = new Set(["estimating", "queued", "running"]);
/** no worker holds these: Delete is offered (the server refuses while a run reads one) */
const SETTLED = new Set(["ready", "estimated", "failed", "cancelled"]);
const key = (versionId: string) => ["datasets", "teacher-logits", versionId] as const;
const base = (versionId: string) => `/api/dataset-versions/${encodeURIComponent(versionId)}/teacher-logits`;

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function formatSeconds(s: number): string {
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 5400) return `${(s / 60).toFixed(0)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

const ENDPOINT_PREFIX = "endpoint:";

/** an endpoint's scoring rate as measured by earlier artifacts of this version (estimate or compute) */
export function measuredEndpointRate(
  artifacts: readonly TeacherLogitsView[],
  endpointId: string,
): { positionsPerSecond: number; artifactId: string } | null {
  for (const a of artifacts) {
    if (a.teacherEndpointId !== endpointId) continue;
    if (a.status === "ready" && a.positions && a.seconds && a.seconds > 0)
      return { positionsPerSecond: a.positions / a.seconds, artifactId: a.id };
    const pps = a.estimate?.positionsPerSecond;
    if (typeof pps === "number" && Number.isFinite(pps) && pps > 0)
      return { positionsPerSecond: pps, artifactId: a.id };
  }
  return null;
}

function describeTime(a: TeacherLogitsView): string {
  const e = a.estimate;
  if (!e) return "";
  if (e.seconds === null || !Number.isFinite(e.seconds))
    return a.teacherEndpointId
      ? "time unknown (the endpoint's scoring rate could not be measured)"
      : "time unknown";
  const rate =
    a.teacherEndpointId && e.positionsPerSecond
      ? ` at the endpoint's measured ${Math.round(e.positionsPerSecond).toLocaleString()} positions/s`
      : "";
  return `about ${formatSeconds(e.seconds)}${rate}`;
}

function describe(a: TeacherLogitsView): string {
  switch (a.status) {
    case "estimating":
      return a.cancelRequested
        ? "stopping…"
        : a.teacherEndpointId
          ? "checking the endpoint's tokenizer, then estimating size and time (one timed request)…"
          : "estimating size and time (one timed teacher batch)…";
    case "estimated":
      return a.estimate
        ? `estimate: ${formatBytes(a.estimate.bytes)}, ${describeTime(a)} for ${a.estimate.positions.toLocaleString()} positions of ${a.estimate.rows.toLocaleString()} rows`
        : "estimated";
    case "queued":
      return "queued";
    case "running": {
      const { rowsDone, rows } = a.progress;
      const done = rows
        ? ` ${rowsDone ?? 0} / ${rows} rows (${Math.floor((100 * (rowsDone ?? 0)) / rows)}%)`
        : "";
      return a.cancelRequested ? "stopping…" : `computing…${done}`;
    }
    case "ready":
      return `ready: ${formatBytes(a.bytes)}, ${a.positions?.toLocaleString()} positions, computed in ${formatSeconds(a.seconds ?? 0)}`;
    default:
      return a.error ? `${a.status}: ${a.error}` : a.status;
  }
}

/**
 * Stored teacher logits of this version (logit-mode runs read them instead of running the
 * teacher): pick a teacher, top-k and max length; a worker estimates the size and time first,
 * then computes on request, with its progress shown live; cancel stops it. A ready artifact's id
 * goes into a run's distillation.teacherLogits.artifactId (the run form's picker); Delete removes
 * its files and row once no queued or running run reads it.
 */
export function TeacherLogitsPanel(props: { versionId: string; template: string }) {
  const client = useQueryClient();
  const models = useTokenizerModels();
  const teachers = useTeachers();
  // OpenAI-compatible endpoints may answer prompt_logprobs (vLLM); ollama's API has none
  const endpoints = (teachers.data?.teachers ?? []).filter((t) => t.api === "openai");
  const [teacherChoice, setTeacher] = useState("");
  const [tokenizerModelId, setTokenizerModel] = useState("");
  const endpointId = teacherChoice.startsWith(ENDPOINT_PREFIX)
    ? teacherChoice.slice(ENDPOINT_PREFIX.length)
    : "";
  const teacherModelId = endpointId ? tokenizerModelId : teacherChoice;
  const [k, setK] = useState(20);
  const [maxSeqLength, setMaxSeqLength] = useState(1024);
  const [template, setTemplate] = useState(props.template);
  const list = useQuery({
    queryKey: key(props.versionId),
    queryFn: () =>
      fetchJson<{ artifacts: TeacherLogitsView[] }>(base(props.versionId)).then((r) => r.artifacts),
    refetchInterval: (q) => (q.state.data?.some((a) => ACTIVE.has(a.status)) ? 1_000 : false),
  });
  const refresh = () => client.invalidateQueries({ queryKey: key(props.versionId) });
  const estimate = useMutation({
    mutationFn: (body: TeacherLogitsRequest) =>
      fetchJson<{ artifact: TeacherLogitsView }>(base(props.versionId), {
        method: "POST",
        body: JSON.stringify(body),
      }),
    onSuccess: refresh,
  });
  const act = useMutation({
    mutationFn: (v: { id: string; action: "compute" | "cancel" }) =>
      fetchJson<{ artifact: TeacherLogitsView }>(`${base(props.versionId)}/${encodeURIComponent(v.id)}`, {
        method: "POST",
        body: JSON.stringify({ action: v.action }),
      }),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) =>
      fetchJson<{ deleted: { id: string } }>(`${base(props.versionId)}/${encodeURIComponent(id)}`, {
        method: "DELETE",
      }),
    onSuccess: refresh,
    // a refusal (409: a run reads it) leaves the row as it was; a storage failure marks it failed
    onError: refresh,
  });
  return (
    <div data-testid="teacher-logits">
      <p className="muted">
        The teacher's top-k log-probabilities of every completion token, computed once and read by logit-mode
        runs on this version instead of running the teacher (fp16 values, int32 ids).
      </p>
      <div className="row">
        <div className="field">
          <label htmlFor="teacher-logits-model">Teacher</label>
          <select
            id="teacher-logits-model"
            value={teacherChoice}
            onChange={(e) => setTeacher(e.target.value)}
          >
            <option value="">choose a model or an endpoint…</option>
            {(models.data ?? []).map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
            {endpoints.map((t) => (
              <option key={t.id} value={`${ENDPOINT_PREFIX}${t.id}`}>
                endpoint · {t.name} ({t.model})
              </option>
            ))}
          </select>
        </div>
        {endpointId && (
          <div className="field">
            <label htmlFor="teacher-logits-tokenizer">Tokenizer of</label>
            <select
              id="teacher-logits-tokenizer"
              value={tokenizerModelId}
              onChange={(e) => setTokenizerModel(e.target.value)}
            >
              <option value="">choose the students' model…</option>
              {(models.data ?? []).map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field">
          <label htmlFor="teacher-logits-k">Top-k</label>
          <input
            id="teacher-logits-k"
            type="number"
            min={1}
            max={1000}
            value={k}
            onChange={(e) => setK(Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor="teacher-logits-max">Max length (tokens)</label>
          <input
            id="teacher-logits-max"
            type="number"
            min={8}
            value={maxSeqLength}
            onChange={(e) => setMaxSeqLength(Number(e.target.value))}
          />
        </div>
        <TemplateSelect id="teacher-logits-template" value={template} onChange={setTemplate} />
        <button
          type="button"
          disabled={!teacherModelId || estimate.isPending}
          onClick={() =>
            estimate.mutate({
              teacherModelId,
              ...(endpointId ? { teacherEndpointId: endpointId } : {}),
              k,
              maxSeqLength,
              template: template as TeacherLogitsRequest["template"],
            })
          }
        >
          Estimate
        </button>
      </div>
      {endpointId && (
        <p className="muted" data-testid="teacher-logits-endpoint-hint">
          The endpoint scores the rows through /v1/completions with prompt_logprobs (vLLM); the rows are
          tokenized with the chosen model's tokenizer, which the endpoint must share (checked through its
          /tokenize before the estimate is queued). {endpointRateHint(list.data ?? [], endpointId)}
        </p>
      )}
      {estimate.error && (
        <p className="error" data-testid="teacher-logits-estimate-error">
          {estimate.error.message}
        </p>
      )}
      {act.error && <p className="error">{act.error.message}</p>}
      {remove.error && (
        <p className="error" data-testid="teacher-logits-delete-error">
          {remove.error.message}
        </p>
      )}
      {list.error && <p className="error">{list.error.message}</p>}
      {(list.data ?? []).length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Artifact</th>
              <th>Teacher</th>
              <th>k</th>
              <th>Max length</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(list.data ?? []).map((a) => (
              <tr key={a.id} data-testid="teacher-logits-row">
                <td className="mono">{a.id}</td>
                <td>{a.teacherName}</td>
                <td>{a.k}</td>
                <td>{a.maxSeqLength}</td>
                <td data-testid="teacher-logits-status">{describe(a)}</td>
                <td>
                  {a.status === "estimated" && (
                    <button
                      type="button"
                      disabled={act.isPending}
                      onClick={() => act.mutate({ id: a.id, action: "compute" })}
                    >
                      Compute
                    </button>
                  )}
                  {(a.status === "estimated" || ACTIVE.has(a.status)) && !a.cancelRequested && (
                    <button
                      type="button"
                      disabled={act.isPending}
                      onClick={() => act.mutate({ id: a.id, action: "cancel" })}
                    >
                      Cancel
                    </button>
                  )}
                  {SETTLED.has(a.status) && (
                    <button
                      type="button"
                      disabled={remove.isPending}
                      onClick={() => {
                        if (
                          window.confirm(
                            `Delete teacher logits ${a.id} (${a.teacherName}, k ${a.k})? Their files are removed; runs on this version can no longer read them.`,
                          )
                        )
                          remove.mutate(a.id);
                      }}
                    >
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function endpointRateHint(artifacts: readonly TeacherLogitsView[], endpointId: string): string {
  const rate = measuredEndpointRate(artifacts, endpointId);
  return rate
    ? `Measured scoring rate: ${Math.round(rate.positionsPerSecond).toLocaleString()} positions/s (artifact ${rate.artifactId}); the estimate times one request again.`
    : "Its scoring rate is unknown until the estimate times one request.";
}
