"use client";
import {
  type CanonicalExample,
  getLastUserMessage,
  type RunConfigInput,
  type SampleEvent,
} from "@distillery/core";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type {
  TeacherLogitsChoice,
  TeacherLogitsChoicesRequest,
} from "@/features/datasets/server/teacher-logits-choices.ts";
import { fetchJson } from "@/lib/client/api.ts";
import type { ConfigDifference } from "../lib/config-diff.ts";
import type { MetricSeries } from "../lib/metric-series.ts";
import type { RunDetail } from "../server/get-run-detail.ts";
import type { DatasetVersionOption } from "../server/list-dataset-versions.ts";
import type { ModelView } from "../server/list-models.ts";
import type { RunMetrics } from "../server/run-metrics.ts";
import type { RunView } from "../server/run-view.ts";
import type { TokenizerMatch } from "../server/teacher-tokenizers.ts";

export interface RunFilters {
  status?: string;
  engine?: string;
  model?: string;
  datasetVersion?: string;
  launchedBy?: string;
}

export const runKeys = {
  all: ["runs"] as const,
  lists: () => [...runKeys.all, "list"] as const,
  list: (filters: RunFilters) => [...runKeys.lists(), filters] as const,
  detail: (id: string) => [...runKeys.all, "detail", id] as const,
  metrics: (id: string) => [...runKeys.all, "metrics", id] as const,
  samples: (id: string) => [...runKeys.all, "samples", id] as const,
  compare: (ids: string[]) => [...runKeys.all, "compare", ids] as const,
  throughput: () => [...runKeys.all, "throughput"] as const,
  teacherTokenizers: (student: string, specialTokens: string[]) =>
    [...runKeys.all, "teacher-tokenizers", student, specialTokens] as const,
  teacherLogitsChoices: (draft: TeacherLogitsChoicesRequest) =>
    [...runKeys.all, "teacher-logits-choices", draft] as const,
};
export const modelKeys = { all: ["models"] as const, list: () => [...modelKeys.all, "list"] as const };
export const datasetVersionKeys = {
  all: ["dataset-versions"] as const,
  ready: () => [...datasetVersionKeys.all, "ready"] as const,
  prompts: (id: string) => [...datasetVersionKeys.all, "prompts", id] as const,
};

export const isActiveStatus = (s: string) => s === "queued" || s === "claimed" || s === "running";

const qs = (params: Record<string, string | undefined>) => {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) sp.set(k, v);
  const s = sp.toString();
  return s ? `?${s}` : "";
};

export interface RunListResponse {
  runs: RunView[];
  options: {
    models: { id: string; label: string }[];
    datasetVersions: { id: string; label: string }[];
    users: { id: string; name: string }[];
  };
}

export function useRuns(filters: RunFilters) {
  return useQuery({
    queryKey: runKeys.list(filters),
    queryFn: () => fetchJson<RunListResponse>(`/api/runs${qs({ ...filters })}`),
    refetchInterval: 3_000,
  });
}

export function useRunDetail(runId: string) {
  return useQuery({
    queryKey: runKeys.detail(runId),
    queryFn: () => fetchJson<RunDetail>(`/api/runs/${encodeURIComponent(runId)}`),
    enabled: runId !== "",
    // status changes (queued → running → finished) are not events: poll while the run is alive
    refetchInterval: (q) => (q.state.data && !isActiveStatus(q.state.data.run.status) ? false : 3_000),
  });
}

/** Snapshots the live view starts from: fetched once, then kept current by the event stream. */
export function useRunMetrics(runId: string) {
  return useQuery({
    queryKey: runKeys.metrics(runId),
    queryFn: () => fetchJson<RunMetrics>(`/api/runs/${encodeURIComponent(runId)}/metrics`),
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
  });
}

export function useRunSamples(runId: string) {
  return useQuery({
    queryKey: runKeys.samples(runId),
    queryFn: () =>
      fetchJson<{ samples: SampleEvent[]; throughSeq: number }>(
        `/api/runs/${encodeURIComponent(runId)}/samples?take=100`,
      ),
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
  });
}

export interface CompareResponse {
  runs: (RunView & { series: MetricSeries })[];
  diff: ConfigDifference[];
}

export function useCompareRuns(ids: string[]) {
  return useQuery({
    queryKey: runKeys.compare(ids),
    queryFn: () =>
      fetchJson<CompareResponse>(`/api/runs/compare?ids=${ids.map(encodeURIComponent).join(",")}`),
    enabled: ids.length >= 2,
  });
}

export function useThroughput() {
  return useQuery({
    queryKey: runKeys.throughput(),
    queryFn: () =>
      fetchJson<{
        engines: Record<
          string,
          {
            tokensPerSecond: number;
            runs: number;
            parameterTokensPerSecond: number | null;
            sizedRuns: number;
          }
        >;
      }>("/api/runs/throughput").then((r) => r.engines),
  });
}

/** Whether each catalog model shares the student's tokenizer (the launch's check, run ahead). */
export function useTeacherTokenizers(student: string, specialTokens: string[], isEnabled: boolean) {
  return useQuery({
    queryKey: runKeys.teacherTokenizers(student, specialTokens),
    queryFn: () =>
      fetchJson<{ student: string | null; teachers: Record<string, TokenizerMatch> }>(
        `/api/runs/teacher-tokenizers${qs({ student, specialTokens: specialTokens.join(",") })}`,
      ),
    enabled: isEnabled && student !== "",
    staleTime: 60_000,
  });
}

/**
 * The stored teacher-logits artifacts a logit run could read, each with the launch's refusal for
 * this draft (or null): asked again as the draft's version, student, rendering or lengths change.
 */
export function useTeacherLogitsChoices(draft: TeacherLogitsChoicesRequest, isEnabled: boolean) {
  return useQuery({
    queryKey: runKeys.teacherLogitsChoices(draft),
    queryFn: () =>
      fetchJson<{ artifacts: TeacherLogitsChoice[] }>("/api/runs/teacher-logits-choices", {
        method: "POST",
        body: JSON.stringify(draft),
      }).then((r) => r.artifacts),
    enabled: isEnabled,
    placeholderData: keepPreviousData,
    staleTime: 5_000,
  });
}

export function useModels() {
  return useQuery({
    queryKey: modelKeys.list(),
    queryFn: () => fetchJson<{ models: ModelView[] }>("/api/models").then((r) => r.models),
  });
}

export function useDatasetVersions() {
  return useQuery({
    queryKey: datasetVersionKeys.ready(),
    queryFn: () =>
      fetchJson<{ versions: DatasetVersionOption[] }>("/api/dataset-versions").then((r) => r.versions),
  });
}

export function useLaunchRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (config: RunConfigInput) =>
      fetchJson<{ run: RunView }>("/api/runs", { method: "POST", body: JSON.stringify({ config }) }).then(
        (r) => r.run,
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: runKeys.lists() }),
  });
}

export function useCancelRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (runId: string) =>
      fetchJson<{ runId: string; status: string }>(`/api/runs/${encodeURIComponent(runId)}/cancel`, {
        method: "POST",
      }),
    onSuccess: (_r, runId) => {
      void client.invalidateQueries({ queryKey: runKeys.detail(runId) });
      void client.invalidateQueries({ queryKey: runKeys.lists() });
      void client.invalidateQueries({ queryKey: ["queue"] });
    },
  });
}

/** The first prompts of a dataset version: a new run's sample prompts on that data. */
export function useVersionPrompts(version: { id: string; datasetId: string } | null) {
  return useQuery({
    queryKey: datasetVersionKeys.prompts(version?.id ?? ""),
    queryFn: () =>
      fetchJson<{ rows: { example: CanonicalExample }[] }>(
        `/api/datasets/${encodeURIComponent(version?.datasetId ?? "")}/versions/${encodeURIComponent(version?.id ?? "")}/rows?limit=3`,
      ).then((r) =>
        r.rows.map((row) => getLastUserMessage(row.example).slice(0, 2000)).filter((p) => p.trim() !== ""),
      ),
    enabled: version !== null,
    staleTime: Number.POSITIVE_INFINITY,
  });
}
