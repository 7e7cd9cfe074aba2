"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { fetchJson } from "@/lib/client/api.ts";
import type { ConversationData } from "../lib/conversation.ts";

export const conversationKeys = {
  all: ["conversations"] as const,
  list: () => [...conversationKeys.all, "list"] as const,
  detail: (id: string) => [...conversationKeys.all, "detail", id] as const,
};

export interface ConversationSummary {
  id: string;
  title: string;
  updatedAt: string;
}

export function useConversations() {
  return useQuery({
    queryKey: conversationKeys.list(),
    queryFn: () =>
      fetchJson<{ conversations: ConversationSummary[] }>("/api/playground/conversations").then(
        (r) => r.conversations,
      ),
  });
}

export function useConversation(id: string | null) {
  return useQuery({
    queryKey: conversationKeys.detail(id ?? ""),
    queryFn: () =>
      fetchJson<{ id: string; title: string; data: ConversationData }>(`/api/playground/conversations/${id}`),
    enabled: !!id,
    staleTime: Number.POSITIVE_INFINITY,
  });
}

export function useSaveConversation() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, data }: { id: string | null; data: ConversationData }) =>
      fetchJson<{ id: string }>(
        id ? `/api/playground/conversations/${id}` : "/api/playground/conversations",
        {
          method: id ? "PUT" : "POST",
          body: JSON.stringify({ data }),
        },
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: conversationKeys.list() }),
  });
}

export function renderPromptRequest(model: string, messages: { role: string; content: string }[]) {
  return fetchJson<{ prompt: string; template: string; specialTokens: string[] }>("/api/playground/render", {
    method: "POST",
    body: JSON.stringify({ model, messages }),
  });
}
