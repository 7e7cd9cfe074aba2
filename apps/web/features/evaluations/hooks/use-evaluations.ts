"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { datasetVersionKeys } from "@/features/runs/hooks/use-runs.ts";
import { fetchJson } from "@/lib/client/api.ts";
import type { CompareFilter, CompareRow, EvaluationView } from "../lib/evaluation-types.ts";

export const evaluationKeys = {
  all: ["evaluations"] as const,
  list: (runId?: string) => [...evaluationKeys.all, "list", runId ?? ""] as const,
  compare: (ids: string[], filter: CompareFilter, offset: number) =>
    [...evaluationKeys.all, "compare", ids, filter, offset] as const,
};
export const servedModelKeys = { list: () => ["v1-models"] as const };

export interface ServedModel {
  id: string;
  label: string;
  kind: string;
  status: "unloaded" | "loading" | "ready";
}

const isActive = (e: EvaluationView) => e.status === "queued" || e.status === "running";

export function useEvaluations(runId?: string) {
  return useQuery({
    queryKey: evaluationKeys.list(runId),
    queryFn: () =>
      fetchJson<{ evaluations: EvaluationView[] }>(
        `/api/evaluations${runId ? `?runId=${encodeURIComponent(runId)}` : ""}`,
      ).then((r) => r.evaluations),
    // progress is live while any evaluation is queued or running
    refetchInterval: (q) => (q.state.data?.some(isActive) ? 1_000 : 10_000),
  });
}

export function useServedModels() {
  return useQuery({
    queryKey: servedModelKeys.list(),
    queryFn: () => fetchJson<{ data: ServedModel[] }>("/v1/models").then((r) => r.data),
    refetchInterval: 5_000,
  });
}

export interface CompareResponse {
  evaluations: EvaluationView[];
  counts: Record<CompareFilter, number>;
  total: number;
  rows: CompareRow[];
}

export function useCompareEvaluations(ids: string[], filter: CompareFilter, offset: number) {
  return useQuery({
    queryKey: evaluationKeys.compare(ids, filter, offset),
    queryFn: () =>
      fetchJson<CompareResponse>(
        `/api/evaluations/compare?ids=${ids.map(encodeURIComponent).join(",")}&filter=${filter}&offset=${offset}&limit=50`,
      ),
    enabled: ids.length > 0,
    refetchInterval: (q) => (q.state.data?.evaluations.some(isActive) ? 1_500 : false),
  });
}

export function useCreateEvaluations() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: unknown) =>
      fetchJson<{ evaluations: EvaluationView[] }>("/api/evaluations", {
        method: "POST",
        body: JSON.stringify(body),
      }),
    onSuccess: () => qc.invalidateQueries({ queryKey: evaluationKeys.all }),
  });
}

export function useEvaluationAction() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action }: { id: string; action: "cancel" | "resume" }) =>
      fetchJson<EvaluationView>(`/api/evaluations/${encodeURIComponent(id)}/${action}`, { method: "POST" }),
    onSuccess: () => qc.invalidateQueries({ queryKey: evaluationKeys.all }),
  });
}

export interface UploadedEvalSet {
  versionId: string;
  datasetId: string;
  label: string;
  rows: number;
  skipped: number;
}

/** An uploaded prompt/answer file becomes an eval set (a dataset version). */
export function useUploadEvalSet() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { fileName: string; text: string }) =>
      fetchJson<UploadedEvalSet>("/api/evaluations/eval-sets", {
        method: "POST",
        body: JSON.stringify(body),
      }),
    onSuccess: () => qc.invalidateQueries({ queryKey: datasetVersionKeys.all }),
  });
}
