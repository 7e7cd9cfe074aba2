"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, fetchJson } from "@/lib/client/api.ts";
import { modelKeys } from "../../runs/hooks/use-runs.ts";
import type { AddModelRequest } from "../lib/model-requests.ts";
import type { ModelView } from "../server/model-views.ts";
import type { ModelJobView } from "../server/start-model-job.ts";

export const modelJobKeys = {
  all: ["model-jobs"] as const,
  list: () => [...modelJobKeys.all, "list"] as const,
};
export const modelDetailKey = (id: string) => [...modelKeys.all, "detail", id] as const;

export function useModelJobs() {
  const client = useQueryClient();
  return useQuery({
    queryKey: modelJobKeys.list(),
    queryFn: async () => {
      const { jobs } = await fetchJson<{ jobs: ModelJobView[] }>("/api/models/jobs");
      if (jobs.some((j) => j.status === "completed"))
        void client.invalidateQueries({ queryKey: modelKeys.list() });
      return jobs;
    },
    refetchInterval: (q) =>
      q.state.data?.some((j) => j.status === "queued" || j.status === "active") ? 1_000 : 10_000,
  });
}

export function useModelDetail(id: string | null) {
  return useQuery({
    queryKey: modelDetailKey(id ?? ""),
    queryFn: () => fetchJson<{ model: ModelView & { chatTemplate: string | null } }>(`/api/models/${id}`),
    enabled: Boolean(id),
  });
}

export function useAddModel() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: AddModelRequest) =>
      fetchJson<{ jobId: string }>("/api/models", { method: "POST", body: JSON.stringify(body) }),
    onSuccess: () => client.invalidateQueries({ queryKey: modelJobKeys.list() }),
  });
}

/** Uploads a picked folder file by file (streamed PUTs), then asks a worker to register it. */
export function useUploadModelFolder() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (input: {
      name: string;
      files: { path: string; file: Blob }[];
      onProgress?: (done: number, total: number) => void;
    }) => {
      const { uploadId } = await fetchJson<{ uploadId: string }>("/api/models/uploads", { method: "POST" });
      const total = input.files.reduce((s, f) => s + f.file.size, 0);
      let done = 0;
      for (const f of input.files) {
        const res = await fetch(`/api/models/uploads/${uploadId}/files?path=${encodeURIComponent(f.path)}`, {
          method: "PUT",
          body: f.file,
        });
        if (!res.ok) {
          const p = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
          throw new ApiError(res.status, p.code ?? "unknown", p.detail ?? res.statusText);
        }
        done += f.file.size;
        input.onProgress?.(done, total);
      }
      return fetchJson<{ jobId: string }>(`/api/models/uploads/${uploadId}/complete`, {
        method: "POST",
        body: JSON.stringify({ name: input.name }),
      });
    },
    onSuccess: () => client.invalidateQueries({ queryKey: modelJobKeys.list() }),
  });
}
