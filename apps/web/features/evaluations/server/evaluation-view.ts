import "server-only";
import type { EvaluationView } from "../lib/evaluation-types.ts";

export function toEvaluationView(row: {
  id: string;
  name: string;
  model: string;
  evalSet: unknown;
  settings: unknown;
  status: string;
  runId: string | null;
  phase: string | null;
  total: number;
  done: number;
  metrics: unknown;
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}): EvaluationView {
  const evalSet = row.evalSet as EvaluationView["evalSet"];
  return {
    id: row.id,
    name: row.name,
    model: row.model,
    evalSet,
    settings: row.settings as EvaluationView["settings"],
    status: row.status,
    runId: row.runId,
    phase: row.phase,
    total: row.total,
    done: row.done,
    metrics: (row.metrics as EvaluationView["metrics"]) ?? null,
    error: row.error,
    hasExamples: evalSet.kind !== "run-event",
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}
