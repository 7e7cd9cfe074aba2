"use client";
import Link from "next/link";
import { type FormEvent, useState } from "react";
import { ApiError } from "@/lib/client/api.ts";
import { errorText, useSubmit } from "./use-submit.ts";

/** Only same-site paths are followed after sign-in (never another origin). */
export function safeNext(next: string | undefined): string {
  return next?.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function SignInForm({ next }: { next?: string }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { submit, error, isPending } = useSubmit("/api/auth/sign-in/email", () => {
    window.location.assign(safeNext(next));
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit({ email, password });
  };
  const message =
    error?.status === 401
      ? "Wrong email or password."
      : error?.status === 429
        ? "Too many attempts: wait a minute."
        : errorText(error);
  return (
    <form className="panel auth-panel" onSubmit={onSubmit} aria-label="Sign in">
      <h1>Sign in</h1>
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
        Password
        <input
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {error && !(error instanceof ApiError && error.status === 0 && !message) && (
        <p role="alert" className="warn-text">
          {message}
        </p>
      )}
      <div className="row between">
        <button type="submit" disabled={isPending}>
          {isPending ? "Signing in…" : "Sign in"}
        </button>
        <Link href="/forgot-password">Forgot password?</Link>
      </div>
    </form>
  );
}
