"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { fetchJson } from "@/lib/client/api.ts";
import { authKeys } from "../hooks/auth-keys.ts";
import { errorText, useSubmit } from "./use-submit.ts";

interface TokenView {
  id: string;
  name: string;
  scope: string;
  prefix: string;
  userEmail: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

export function TokenSettings() {
  const queryClient = useQueryClient();
  const tokens = useQuery({
    queryKey: authKeys.tokens(),
    queryFn: () => fetchJson<{ tokens: TokenView[] }>("/api/tokens"),
  });
  const [name, setName] = useState("");
  const [scope, setScope] = useState("read");
  const [days, setDays] = useState("90");
  const [shown, setShown] = useState<string | null>(null);
  const create = useSubmit<{ token: string }>("/api/tokens", (r) => {
    setShown(r.token);
    void queryClient.invalidateQueries({ queryKey: authKeys.tokens() });
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void create.submit({ name, scope, expiresInDays: days === "never" ? null : Number(days) });
  };
  async function revoke(id: string) {
    await fetchJson(`/api/tokens/${id}`, { method: "DELETE" }).catch(() => {});
    await queryClient.invalidateQueries({ queryKey: authKeys.tokens() });
  }
  return (
    <>
      <h1>API tokens</h1>
      <form className="panel" onSubmit={onSubmit} aria-label="New token">
        <h2 className="panel-title">New token</h2>
        <div className="row">
          <input
            aria-label="Token name"
            placeholder="name (e.g. ci)"
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
          <select aria-label="Scope" value={scope} onChange={(e) => setScope(e.target.value)}>
            <option value="read">read</option>
            <option value="write">write</option>
            <option value="admin">admin</option>
          </select>
          <select aria-label="Expires" value={days} onChange={(e) => setDays(e.target.value)}>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
            <option value="365">1 year</option>
            <option value="never">never</option>
          </select>
          <button type="submit" disabled={create.isPending}>
            Create token
          </button>
        </div>
        {create.error && <p className="warn-text">{errorText(create.error)}</p>}
        {shown && (
          <p role="status">
            Copy it now, it is not shown again:{" "}
            <code className="mono" data-testid="new-token">
              {shown}
            </code>
            <br />
            <span className="muted small">
              Use it as <code className="mono">Authorization: Bearer …</code> or{" "}
              <code className="mono">distillery login --token …</code>
            </span>
          </p>
        )}
      </form>
      <section className="panel">
        <table className="table" aria-label="Tokens">
          <thead>
            <tr>
              <th>Name</th>
              <th>Token</th>
              <th>Scope</th>
              <th>User</th>
              <th>Expires</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.data?.tokens.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td className="mono">{t.prefix}…</td>
                <td>{t.scope}</td>
                <td>{t.userEmail}</td>
                <td>{t.expiresAt ? new Date(t.expiresAt).toLocaleDateString() : "never"}</td>
                <td>{t.lastUsedAt ? new Date(t.lastUsedAt).toLocaleString() : "—"}</td>
                <td>
                  {t.revokedAt ? (
                    <span className="muted">revoked</span>
                  ) : (
                    <button type="button" className="link-button" onClick={() => void revoke(t.id)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
