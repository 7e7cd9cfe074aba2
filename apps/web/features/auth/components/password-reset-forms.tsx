"use client";
import Link from "next/link";
import { type FormEvent, useState } from "react";
import { errorText, useSubmit } from "./use-submit.ts";

export function ForgotPasswordForm() {
  const [email, setEmail] = useState("");
  const [isSent, setSent] = useState(false);
  const { submit, error, isPending } = useSubmit("/api/auth/request-password-reset", () => setSent(true));
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit({ email, redirectTo: "/reset-password" });
  };
  if (isSent)
    return (
      <div className="panel auth-panel" role="status">
        <h1>Check the link</h1>
        <p>
          If an account exists for {email}, a one-time reset link (valid one hour) was made. Without a mail
          server it is printed in the studio's server log: ask whoever runs it.
        </p>
        <Link href="/sign-in">Back to sign in</Link>
      </div>
    );
  return (
    <form className="panel auth-panel" onSubmit={onSubmit} aria-label="Reset password">
      <h1>Reset your password</h1>
      <label className="field">
        Email
        <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      {error && (
        <p role="alert" className="warn-text">
          {errorText(error)}
        </p>
      )}
      <button type="submit" disabled={isPending}>
        Send reset link
      </button>
    </form>
  );
}

export function ResetPasswordForm({ token }: { token: string }) {
  const [password, setPassword] = useState("");
  const [isDone, setDone] = useState(false);
  const { submit, error, isPending } = useSubmit("/api/auth/reset-password", () => setDone(true));
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit({ newPassword: password, token });
  };
  if (!token)
    return (
      <p className="panel auth-panel warn-text">
        This reset link has no token: open the link from the server log again.
      </p>
    );
  if (isDone)
    return (
      <div className="panel auth-panel" role="status">
        <p>Your password is changed and your other sessions are signed out.</p>
        <Link href="/sign-in">Sign in</Link>
      </div>
    );
  return (
    <form className="panel auth-panel" onSubmit={onSubmit} aria-label="New password">
      <h1>Choose a new password</h1>
      <label className="field">
        New password (8 characters or more)
        <input
          type="password"
          autoComplete="new-password"
          minLength={8}
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {error && (
        <p role="alert" className="warn-text">
          {errorText(error)}
        </p>
      )}
      <button type="submit" disabled={isPending}>
        Set password
      </button>
    </form>
  );
}
