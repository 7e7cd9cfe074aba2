"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";
import { fetchJson } from "@/lib/client/api.ts";
import type { CreateGenerationInput } from "../server/generation-schemas.ts";
import type { GenerationListItem, GenerationView } from "../server/generation-view.ts";

export const generationKeys = {
  all: ["generations"] as const,
  list: () => [...generationKeys.all, "list"] as const,
  detail: (id: string) => [...generationKeys.all, "detail", id] as const,
};

export function useGenerations(options: { refetchMs?: number } = {}) {
  return useQuery({
    queryKey: generationKeys.list(),
    queryFn: () => fetchJson<{ jobs: GenerationListItem[] }>("/api/generations"),
    refetchInterval: options.refetchMs ?? 2_000,
  });
}

export function useCreateGeneration() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateGenerationInput) =>
      fetchJson<{ id: string; name: string; total: number }>("/api/generations", {
        method: "POST",
        body: JSON.stringify(body),
      }),
    onSettled: () => client.invalidateQueries({ queryKey: generationKeys.all }),
  });
}

export function useGenerationAction(jobId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (action: "cancel" | "pause" | "resume" | "retry-failed") =>
      fetchJson<{ status: string; retried?: number }>(
        `/api/generations/${encodeURIComponent(jobId)}/${action}`,
        {
          method: "POST",
        },
      ),
    onSettled: () => client.invalidateQueries({ queryKey: generationKeys.all }),
  });
}

/**
 * The job's view, live: the first state from GET, then every change over SSE
 * (`event: progress`) until `event: end`. EventSource reconnects by itself.
 */
export function useGenerationLive(jobId: string) {
  const [view, setView] = useState<GenerationView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [isLive, setIsLive] = useState(false);
  // bumped to follow the job again after its stream ended (retry failed rows queues it again)
  const [epoch, setEpoch] = useState(0);
  useEffect(() => {
    let isClosed = false;
    fetchJson<GenerationView>(`/api/generations/${encodeURIComponent(jobId)}`)
      .then((v) => {
        if (!isClosed) setView((old) => (epoch > 0 ? v : (old ?? v)));
      })
      .catch((e: Error) => setError(e.message));
    const source = new EventSource(`/api/generations/${encodeURIComponent(jobId)}/events`);
    source.addEventListener("open", () => setIsLive(true));
    source.addEventListener("progress", (e) => {
      setView(JSON.parse((e as MessageEvent<string>).data) as GenerationView);
      setError(null);
    });
    source.addEventListener("problem", (e) =>
      setError((JSON.parse((e as MessageEvent<string>).data) as { detail: string }).detail),
    );
    source.addEventListener("end", () => {
      setIsLive(false);
      source.close();
    });
    return () => {
      isClosed = true;
      source.close();
    };
  }, [jobId, epoch]);
  const follow = useCallback(() => setEpoch((e) => e + 1), []);
  return { view, error, isLive, follow };
}
