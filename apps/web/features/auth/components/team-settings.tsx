"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { fetchJson } from "@/lib/client/api.ts";
import { authKeys } from "../hooks/auth-keys.ts";
import { hasRole, type Role, useMe } from "../hooks/use-me.ts";
import { errorText, useSubmit } from "./use-submit.ts";

interface Member {
  userId: string;
  name: string;
  email: string;
  role: Role;
  joinedAt: string;
}
const ROLES: Role[] = ["viewer", "member", "admin", "owner"];

export function TeamSettings() {
  const me = useMe();
  const queryClient = useQueryClient();
  const members = useQuery({
    queryKey: authKeys.members(),
    queryFn: () => fetchJson<{ members: Member[] }>("/api/members"),
  });
  const [role, setRole] = useState<Role>("member");
  const [link, setLink] = useState<string | null>(null);
  const [changeError, setChangeError] = useState<string | null>(null);
  const invite = useSubmit<{ url: string }>("/api/invitations", (r) => setLink(r.url));
  const isAdmin = hasRole(me.data, "admin");
  async function change(userId: string, next: Role | null) {
    setChangeError(null);
    try {
      await fetchJson(
        `/api/members/${userId}`,
        next ? { method: "PATCH", body: JSON.stringify({ role: next }) } : { method: "DELETE" },
      );
    } catch (e) {
      setChangeError((e as Error).message);
    }
    await queryClient.invalidateQueries({ queryKey: authKeys.members() });
  }
  const onInvite = (e: FormEvent) => {
    e.preventDefault();
    void invite.submit({ role });
  };
  return (
    <>
      <h1>Team</h1>
      <section className="panel">
        <h2 className="panel-title">Members</h2>
        {changeError && (
          <p role="alert" className="warn-text">
            {changeError}
          </p>
        )}
        <table className="table" aria-label="Members">
          <thead>
            <tr>
              <th>Name</th>
              <th>Email</th>
              <th>Role</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {members.data?.members.map((m) => (
              <tr key={m.userId}>
                <td>{m.name}</td>
                <td>{m.email}</td>
                <td>
                  {isAdmin ? (
                    <select
                      aria-label={`Role of ${m.email}`}
                      value={m.role}
                      onChange={(e) => void change(m.userId, e.target.value as Role)}
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                  ) : (
                    m.role
                  )}
                </td>
                <td>
                  {isAdmin && m.userId !== me.data?.user.id && (
                    <button type="button" className="link-button" onClick={() => void change(m.userId, null)}>
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted small">
          Viewers read everything; members upload, generate, launch and cancel their own runs and jobs; admins
          also cancel anyone's and manage teachers, secrets, members and tokens; owners also delete the
          workspace.
        </p>
      </section>
      {isAdmin && (
        <form className="panel" onSubmit={onInvite} aria-label="Invite">
          <h2 className="panel-title">Invite by link</h2>
          <div className="row">
            <label className="field-inline">
              Role
              <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
                {ROLES.filter((r) => r !== "owner").map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={invite.isPending}>
              Create invitation link
            </button>
          </div>
          {link && (
            <p>
              Send this link (single use, valid 3 days; shown once):{" "}
              <code className="mono" data-testid="invite-link">
                {link}
              </code>
            </p>
          )}
          {invite.error && <p className="warn-text">{errorText(invite.error)}</p>}
        </form>
      )}
      <NewWorkspace />
      {me.data?.role === "owner" && me.data.workspaceId && (
        <DeleteWorkspace workspaceId={me.data.workspaceId} />
      )}
    </>
  );
}

function NewWorkspace() {
  const [name, setName] = useState("");
  const create = useSubmit("/api/workspaces", () => window.location.assign("/"));
  return (
    <form
      className="panel"
      aria-label="New workspace"
      onSubmit={(e) => {
        e.preventDefault();
        void create.submit({ name });
      }}
    >
      <h2 className="panel-title">New workspace</h2>
      <div className="row">
        <input aria-label="Workspace name" required value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit" disabled={create.isPending}>
          Create and switch
        </button>
      </div>
      {create.error && <p className="warn-text">{errorText(create.error)}</p>}
    </form>
  );
}

function DeleteWorkspace({ workspaceId }: { workspaceId: string }) {
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState<string | null>(null);
  async function remove() {
    try {
      await fetchJson(`/api/workspaces/${workspaceId}`, { method: "DELETE" });
      window.location.assign("/");
    } catch (e) {
      setError((e as Error).message);
    }
  }
  return (
    <section className="panel" aria-label="Delete workspace">
      <h2 className="panel-title">Delete this workspace</h2>
      <p className="muted small">
        Deletes its datasets, models, runs and artifacts for everyone. Type the workspace id to confirm.
      </p>
      <div className="row">
        <input
          aria-label="Workspace id to confirm"
          placeholder={workspaceId}
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
        />
        <button
          type="button"
          className="danger"
          disabled={confirm !== workspaceId}
          onClick={() => void remove()}
        >
          Delete workspace
        </button>
      </div>
      {error && <p className="warn-text">{error}</p>}
    </section>
  );
}
