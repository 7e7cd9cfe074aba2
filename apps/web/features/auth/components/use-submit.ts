"use client";
import { useState } from "react";
import { ApiError, fetchJson } from "@/lib/client/api.ts";

/** A form's submit: POSTs JSON, keeps the error (with field messages) and the pending state. */
export function useSubmit<T>(url: string, onDone: (result: T) => void, method = "POST") {
  const [error, setError] = useState<ApiError | null>(null);
  const [isPending, setPending] = useState(false);
  async function submit(body: unknown) {
    setPending(true);
    setError(null);
    try {
      onDone(await fetchJson<T>(url, { method, body: JSON.stringify(body) }));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, "network", (e as Error).message));
    } finally {
      setPending(false);
    }
  }
  return { submit, error, isPending };
}

/** better-auth answers errors as { message, code }; fetchJson reads problem+json's detail. */
export function errorText(error: ApiError | null): string | null {
  if (!error) return null;
  return error.message || `request failed (${error.status})`;
}
