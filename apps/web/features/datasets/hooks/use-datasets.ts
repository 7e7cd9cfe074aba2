"use client";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { fetchJson } from "@/lib/client/api.ts";
import type { DeriveRequest, ImportRequest } from "../lib/dataset-requests.ts";
import type { RowPage } from "../server/browse-rows.ts";
import type {
  DatasetDetail,
  DatasetJobView,
  DatasetListItem,
  DatasetVersionView,
} from "../server/dataset-views.ts";

export const datasetKeys = {
  all: ["datasets"] as const,
  list: () => [...datasetKeys.all, "list"] as const,
  detail: (datasetId: string) => [...datasetKeys.all, "detail", datasetId] as const,
  version: (datasetId: string, versionId: string) =>
    [...datasetKeys.detail(datasetId), "version", versionId] as const,
  rows: (datasetId: string, versionId: string, page: { offset: number; limit: number; q: string }) =>
    [...datasetKeys.version(datasetId, versionId), "rows", page] as const,
  job: (jobId: string) => [...datasetKeys.all, "job", jobId] as const,
  tokenizers: () => [...datasetKeys.all, "tokenizers"] as const,
};

export function useDatasets() {
  return useQuery({
    queryKey: datasetKeys.list(),
    queryFn: () => fetchJson<{ datasets: DatasetListItem[] }>("/api/datasets").then((r) => r.datasets),
  });
}

export function useDataset(datasetId: string) {
  return useQuery({
    queryKey: datasetKeys.detail(datasetId),
    queryFn: () =>
      fetchJson<{ dataset: DatasetDetail }>(`/api/datasets/${encodeURIComponent(datasetId)}`).then(
        (r) => r.dataset,
      ),
  });
}

export function useDatasetVersion(datasetId: string, versionId: string) {
  return useQuery({
    queryKey: datasetKeys.version(datasetId, versionId),
    queryFn: () =>
      fetchJson<{ version: DatasetVersionView & { datasetId: string; datasetName: string } }>(
        `/api/datasets/${encodeURIComponent(datasetId)}/versions/${encodeURIComponent(versionId)}`,
      ).then((r) => r.version),
  });
}

export function useVersionRows(
  datasetId: string,
  versionId: string,
  page: { offset: number; limit: number; q: string },
) {
  return useQuery({
    queryKey: datasetKeys.rows(datasetId, versionId, page),
    queryFn: () => {
      const params = new URLSearchParams({ offset: String(page.offset), limit: String(page.limit) });
      if (page.q) params.set("q", page.q);
      return fetchJson<RowPage>(
        `/api/datasets/${encodeURIComponent(datasetId)}/versions/${encodeURIComponent(versionId)}/rows?${params}`,
      );
    },
    placeholderData: keepPreviousData,
  });
}

export function useTokenizerModels() {
  return useQuery({
    queryKey: datasetKeys.tokenizers(),
    queryFn: () =>
      fetchJson<{ models: { id: string; name: string }[] }>("/api/datasets/tokenizers").then((r) => r.models),
  });
}

const isDone = (status: string | undefined) => status === "completed" || status === "failed";

/** Polls a dataset job until it completes or fails (Postgres holds its progress and outcome). */
export function useDatasetJob(jobId: string | null) {
  const client = useQueryClient();
  return useQuery({
    queryKey: datasetKeys.job(jobId ?? ""),
    enabled: jobId !== null,
    queryFn: async () => {
      const job = await fetchJson<{ job: DatasetJobView }>(
        `/api/datasets/jobs/${encodeURIComponent(jobId ?? "")}`,
      ).then((r) => r.job);
      // new versions exist now; refresh every datasets query but this one (invalidating it too
      // would cancel this very fetch and loop)
      if (isDone(job.status))
        void client.invalidateQueries({
          predicate: (q) => q.queryKey[0] === datasetKeys.all[0] && q.queryKey[1] !== "job",
        });
      return job;
    },
    refetchInterval: (q) => (isDone(q.state.data?.status) ? false : 700),
  });
}

export function useStartImport() {
  return useMutation({
    mutationFn: (body: ImportRequest) =>
      fetchJson<{ jobId: string }>("/api/datasets/imports", { method: "POST", body: JSON.stringify(body) }),
  });
}

export function useStartDerive(datasetId: string, versionId: string) {
  return useMutation({
    mutationFn: (body: DeriveRequest) =>
      fetchJson<{ jobId: string }>(
        `/api/datasets/${encodeURIComponent(datasetId)}/versions/${encodeURIComponent(versionId)}/derive`,
        { method: "POST", body: JSON.stringify(body) },
      ),
  });
}
