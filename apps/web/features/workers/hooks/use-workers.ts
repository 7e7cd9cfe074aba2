"use client";
import { useQuery } from "@tanstack/react-query";
import { fetchJson } from "@/lib/client/api.ts";
import type { WorkerView } from "../server/get-workers.ts";

export const workerKeys = {
  all: ["workers"] as const,
  list: () => [...workerKeys.all, "list"] as const,
};

export function useWorkers() {
  return useQuery({
    queryKey: workerKeys.list(),
    queryFn: () => fetchJson<{ workers: WorkerView[] }>("/api/workers").then((r) => r.workers),
    refetchInterval: 2_000,
  });
}
