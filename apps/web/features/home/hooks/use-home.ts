"use client";
import { useQuery } from "@tanstack/react-query";
import { fetchJson } from "@/lib/client/api.ts";
import type { HomeView } from "../server/get-home.ts";

export const homeKeys = { all: ["home"] as const };

/** Polled while runs are moving, so progress bars and the queue stay live. */
export function useHome() {
  return useQuery({
    queryKey: homeKeys.all,
    queryFn: () => fetchJson<HomeView>("/api/home"),
    refetchInterval: (q) =>
      q.state.data && q.state.data.running.length + q.state.data.queue.waiting > 0 ? 2_000 : 10_000,
  });
}
