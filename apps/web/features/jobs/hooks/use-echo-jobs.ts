"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { fetchJson } from "@/lib/client/api.ts";
import type { JobView } from "../server/echo-jobs.ts";

export const jobKeys = {
  all: ["jobs"] as const,
  list: () => [...jobKeys.all, "list"] as const,
  detail: (id: string) => [...jobKeys.all, "detail", id] as const,
};

export function useJobs() {
  return useQuery({
    queryKey: jobKeys.list(),
    queryFn: () => fetchJson<{ jobs: JobView[] }>("/api/jobs").then((r) => r.jobs),
    refetchInterval: (q) =>
      q.state.data?.some((j) => j.status === "queued" || j.status === "active") ? 500 : 3_000,
  });
}

export function useCreateEchoJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: { message: string; delayMs?: number }) =>
      fetchJson<{ job: JobView }>("/api/jobs/echo", { method: "POST", body: JSON.stringify(input) }).then(
        (r) => r.job,
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: jobKeys.list() }),
  });
}
