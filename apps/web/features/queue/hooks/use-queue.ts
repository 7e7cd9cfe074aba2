"use client";
import { useQuery } from "@tanstack/react-query";
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
