/**
 * Why a teacher request failed, and whether trying again can help. `auth` fails the whole job
 * at once (every later request would fail the same way); the retryable kinds are retried with
 * backoff; the rest fail the row with their reason. Messages never carry the API key.
 */
export type TeacherErrorKind =
  | "auth"
  | "rate_limited"
  | "server"
  | "timeout"
  | "dropped"
  | "malformed"
  | "empty"
  | "network"
  | "bad_request"
  | "not_a_teacher"
  | "aborted";

const RETRYABLE: ReadonlySet<TeacherErrorKind> = new Set([
  "rate_limited",
  "server",
  "timeout",
  "dropped",
  "malformed",
  "empty",
  "network",
]);

export class TeacherError extends Error {
  readonly kind: TeacherErrorKind;
  readonly status?: number;
  /** from a 429's Retry-After header */
  readonly retryAfterMs?: number;

  constructor(
    kind: TeacherErrorKind,
    message: string,
    extra: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = "TeacherError";
    this.kind = kind;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
  }

  get isRetryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

export function isTeacherError(e: unknown): e is TeacherError {
  return e instanceof TeacherError;
}

/** Retry-After as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
