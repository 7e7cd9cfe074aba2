"use client";
import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { fetchJson } from "@/lib/client/api.ts";
import { authKeys } from "../hooks/auth-keys.ts";
import { hasRole, useMe } from "../hooks/use-me.ts";

/** The nav's right end: who is signed in, their workspace and role, settings, sign out. */
export function UserMenu() {
  const me = useMe();
  const queryClient = useQueryClient();
  if (!me.data) return null;
  const current = me.data.workspaces.find((w) => w.id === me.data?.workspaceId);
  async function switchTo(workspaceId: string) {
    await fetchJson("/api/me/workspace", { method: "PUT", body: JSON.stringify({ workspaceId }) });
    await queryClient.invalidateQueries();
    window.location.reload();
  }
  async function signOut() {
    await fetch("/api/auth/sign-out", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    queryClient.removeQueries({ queryKey: authKeys.me() });
    window.location.assign("/sign-in");
  }
  return (
    <span className="row user-menu">
      {me.data.workspaces.length > 1 ? (
        <select
          aria-label="Workspace"
          value={me.data.workspaceId ?? ""}
          onChange={(e) => void switchTo(e.target.value)}
        >
          {me.data.workspaces.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
            </option>
          ))}
        </select>
      ) : (
        <span className="muted">{current?.name}</span>
      )}
      <span className="badge" title={me.data.user.email}>
        {me.data.user.name} · {me.data.role ?? "no workspace"}
      </span>
      <Link href="/settings/team">Team</Link>
      <Link href="/settings/tokens">Tokens</Link>
      {hasRole(me.data, "admin") && <Link href="/settings/audit">Audit</Link>}
      <Link href="/api-reference">API</Link>
      <button type="button" className="link-button" onClick={() => void signOut()}>
        Sign out
      </button>
    </span>
  );
}
