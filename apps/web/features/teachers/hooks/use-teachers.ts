"use client";
import type { ConnectionReport } from "@distillery/teacher";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { fetchJson } from "@/lib/client/api.ts";

/** A teacher as routes return it: never the key, only whether one is set. */
export interface TeacherView {
  id: string;
  name: string;
  api: "openai" | "ollama";
  baseUrl: string;
  model: string;
  priceInPerM: number;
  priceOutPerM: number;
  hasApiKey: boolean;
  lastTest: (ConnectionReport & { testedAt: string }) | null;
  createdAt: string;
}

export interface TeacherForm {
  name: string;
  api: "openai" | "ollama";
  baseUrl: string;
  model: string;
  apiKey?: string;
  priceInPerM: number;
  priceOutPerM: number;
}

export const teacherKeys = { all: ["teachers"] as const, list: () => [...teacherKeys.all, "list"] as const };

export function useTeachers() {
  return useQuery({
    queryKey: teacherKeys.list(),
    queryFn: () => fetchJson<{ teachers: TeacherView[] }>("/api/teachers"),
  });
}

export function useAddTeacher() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: TeacherForm) =>
      fetchJson<TeacherView>("/api/teachers", { method: "POST", body: JSON.stringify(body) }),
    onSettled: () => client.invalidateQueries({ queryKey: teacherKeys.all }),
  });
}

export function useTestTeacher() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      fetchJson<ConnectionReport & { testedAt: string }>(`/api/teachers/${encodeURIComponent(id)}/test`, {
        method: "POST",
      }),
    onSettled: () => client.invalidateQueries({ queryKey: teacherKeys.all }),
  });
}

export function useDeleteTeacher() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => fetchJson(`/api/teachers/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSettled: () => client.invalidateQueries({ queryKey: teacherKeys.all }),
  });
}

export function useEditTeacher() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: Partial<TeacherForm> }) =>
      fetchJson<TeacherView>(`/api/teachers/${encodeURIComponent(id)}`, {
        method: "PATCH",
        body: JSON.stringify(patch),
      }),
    onSettled: () => client.invalidateQueries({ queryKey: teacherKeys.all }),
  });
}
