"use client";
import {
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
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
  rows: (datasetId: string, versionId: string, page: { from: number; limit: number }) =>
    [...datasetKeys.version(datasetId, versionId), "rows", page] as const,
  rowSearch: (datasetId: string, versionId: string, search: { q: string; limit: number }) =>
    [...datasetKeys.version(datasetId, versionId), "row-search", search] as const,
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

const rowsUrl = (datasetId: string, versionId: string, params: Record<string, string>) =>
  `/api/datasets/${encodeURIComponent(datasetId)}/versions/${encodeURIComponent(versionId)}/rows?${new URLSearchParams(params)}`;

/** One page of a version's rows, from row `from` (Previous / Next). */
export function useVersionRows(
  datasetId: string,
  versionId: string,
  page: { from: number; limit: number },
  options: { enabled: boolean },
) {
  return useQuery({
    queryKey: datasetKeys.rows(datasetId, versionId, page),
    queryFn: () =>
      fetchJson<RowPage>(
        rowsUrl(datasetId, versionId, { from: String(page.from), limit: String(page.limit) }),
      ),
    placeholderData: keepPreviousData,
    enabled: options.enabled,
  });
}

/**
 * A search through a version's rows, a bounded request at a time: each page is the matches the
 * server found before its page filled or its read budget ran out; `fetchNextPage` goes on from
 * where the last one stopped ("searched N of M rows, load more").
 */
export function useVersionRowSearch(
  datasetId: string,
  versionId: string,
  search: { q: string; limit: number },
) {
  return useInfiniteQuery({
    queryKey: datasetKeys.rowSearch(datasetId, versionId, search),
    queryFn: ({ pageParam }) =>
      fetchJson<RowPage>(
        rowsUrl(datasetId, versionId, {
          from: String(pageParam),
          limit: String(search.limit),
          q: search.q,
        }),
      ),
    initialPageParam: 0,
    getNextPageParam: (last) => last.next ?? undefined,
    enabled: search.q !== "",
  });
}

export function useTokenizerModels() {
  return useQuery({
    queryKey: datasetKeys.tokenizers(),
    queryFn: () =>
      fetchJson<{ models: { id: string; name: string }[] }>("/api/datasets/tokenizers").then((r) => r.models),
  });
}

const isDone = (status: string | undefined) =>
  status === "completed" || status === "failed" || status === "cancelled";

/** Polls a dataset job until it ends (Postgres holds its progress and outcome). */
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

/** Asks a dataset job to stop: at once while queued, at its next batch while running. */
export function useCancelDatasetJob(jobId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () =>
      fetchJson<{ jobId: string; status: string; isCancelRequested: boolean }>(
        `/api/datasets/jobs/${encodeURIComponent(jobId)}/cancel`,
        { method: "POST" },
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: datasetKeys.job(jobId) }),
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
