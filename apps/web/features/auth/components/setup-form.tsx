"use client";
import { type FormEvent, useState } from "react";
import { errorText, useSubmit } from "./use-submit.ts";

/** First start: the first visitor creates the owner account (or, on localhost, a local owner in one click). */
export function SetupForm({ canStartLocally }: { canStartLocally: boolean }) {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { submit, error, isPending } = useSubmit("/api/setup", () => window.location.assign("/"));
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit({ name, email, password });
  };
  return (
    <div className="auth-panel">
      <h1>Welcome to Distillery</h1>
      <p className="muted">
        Nobody has an account yet. The first person here becomes the owner of this studio and of its demo
        workspace.
      </p>
      {canStartLocally && (
        <div className="panel">
          <h2 className="panel-title">Just me, on this machine</h2>
          <p className="muted small">
            Creates a local owner and signs you in. You can invite others and set a password later (a reset
            link goes to the server log).
          </p>
          <button type="button" disabled={isPending} onClick={() => void submit({ local: true })}>
            Start on this machine
          </button>
        </div>
      )}
      <form className="panel" onSubmit={onSubmit} aria-label="Create the owner account">
        <h2 className="panel-title">Create the owner account</h2>
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
          {error?.fieldError("body.email") && (
            <span className="warn-text small">{error.fieldError("body.email")}</span>
          )}
        </label>
        <label className="field">
          Password (8 characters or more)
          <input
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          {error?.fieldError("body.password") && (
            <span className="warn-text small">{error.fieldError("body.password")}</span>
          )}
        </label>
        {error && (
          <p role="alert" className="warn-text">
            {errorText(error)}
          </p>
        )}
        <button type="submit" disabled={isPending}>
          {isPending ? "Creating…" : "Create owner and sign in"}
        </button>
      </form>
    </div>
  );
}
