"use client";
import { useQuery } from "@tanstack/react-query";
import { ApiError, fetchJson } from "@/lib/client/api.ts";
import { authKeys } from "./auth-keys.ts";

export type Role = "viewer" | "member" | "admin" | "owner";
export interface Me {
  user: { id: string; name: string; email: string };
  via: string;
  workspaceId: string | null;
  role: Role | null;
  workspaces: { id: string; name: string; role: Role }[];
}
const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

/** The signed-in user (null when signed out). */
export function useMe() {
  return useQuery({
    queryKey: authKeys.me(),
    queryFn: async () => {
      try {
        return await fetchJson<Me>("/api/me");
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return null;
        throw e;
      }
    },
    staleTime: 30_000,
  });
}

export function hasRole(me: Me | null | undefined, role: Role): boolean {
  return !!me?.role && RANK[me.role] >= RANK[role];
}
