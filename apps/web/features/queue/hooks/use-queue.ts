"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { fetchJson } from "@/lib/client/api.ts";
import type { QueueView } from "../server/get-queue.ts";

export const queueKeys = { all: ["queue"] as const, view: () => [...queueKeys.all, "view"] as const };

export function useQueue() {
  return useQuery({
    queryKey: queueKeys.view(),
    queryFn: () => fetchJson<QueueView>("/api/queue"),
    refetchInterval: 2_000,
  });
}

/** Admins move a waiting run up or down (PATCH /api/runs/:id/priority). */
export function useSetPriority() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ runId, priority }: { runId: string; priority: number }) =>
      fetchJson<{ runId: string; priority: number }>(`/api/runs/${encodeURIComponent(runId)}/priority`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ priority }),
      }),
    onSettled: () => client.invalidateQueries({ queryKey: queueKeys.all }),
  });
}
