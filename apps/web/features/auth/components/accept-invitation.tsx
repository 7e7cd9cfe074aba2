"use client";
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { fetchJson } from "@/lib/client/api.ts";
import { authKeys } from "../hooks/auth-keys.ts";
import { useMe } from "../hooks/use-me.ts";
import { errorText, useSubmit } from "./use-submit.ts";

interface InvitationInfo {
  workspaceName: string;
  role: string;
  expiresAt: string;
}

export function AcceptInvitation({ secret }: { secret: string }) {
  const info = useQuery({
    queryKey: authKeys.invitation(secret),
    queryFn: () => fetchJson<InvitationInfo>(`/api/invitations/${encodeURIComponent(secret)}`),
    retry: false,
  });
  const me = useMe();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { submit, error, isPending } = useSubmit(`/api/invitations/${encodeURIComponent(secret)}`, () =>
    window.location.assign("/"),
  );
  if (info.isPending) return <p className="muted">Loading the invitation…</p>;
  if (info.error)
    return (
      <p role="alert" className="panel auth-panel warn-text">
        {info.error.message}
      </p>
    );
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit({ account: { name, email, password } });
  };
  return (
    <div className="auth-panel">
      <h1>Join {info.data.workspaceName}</h1>
      <p className="muted">
        You are invited as <b>{info.data.role}</b> (the link works once, until{" "}
        {new Date(info.data.expiresAt).toLocaleString()}).
      </p>
      {me.data ? (
        <div className="panel">
          <p>Signed in as {me.data.user.email}.</p>
          <button type="button" disabled={isPending} onClick={() => void submit({})}>
            Join the workspace
          </button>
        </div>
      ) : (
        <form className="panel" onSubmit={onSubmit} aria-label="Create your account">
          <h2 className="panel-title">Create your account</h2>
          <label className="field">
            Name
            <input required value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label className="field">
            Email
            <input
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </label>
          <label className="field">
            Password (8 characters or more)
            <input
              type="password"
              autoComplete="new-password"
              minLength={8}
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          <button type="submit" disabled={isPending}>
            Create account and join
          </button>
        </form>
      )}
      {error && (
        <p role="alert" className="warn-text">
          {errorText(error)}
        </p>
      )}
    </div>
  );
}
