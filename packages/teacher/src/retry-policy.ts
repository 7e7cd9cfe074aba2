import { isTeacherError, TeacherError } from "./teacher-error.ts";

export interface RetryPolicy {
  /** tries per request, the first included */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

/**
 * The wait before retry `attempt` (1 = the first retry): "full jitter" exponential backoff, a
 * uniform draw in [0, min(max, base·2^(attempt-1))]; a server's Retry-After is a floor.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor(random() * cap);
  return retryAfterMs !== undefined ? Math.max(retryAfterMs, jittered) : jittered;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new TeacherError("aborted", "cancelled"));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new TeacherError("aborted", "cancelled"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface RetryOutcome<T> {
  value?: T;
  error?: TeacherError;
  attempts: number;
  /** why each failed try failed, oldest first */
  failures: string[];
}

/**
 * Runs `attempt` until it succeeds, fails with an error retrying cannot fix, or runs out of
 * tries. Auth and cancel errors are thrown (they end the job, not the row); every other final
 * failure is returned so the row records it.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  options: {
    policy: RetryPolicy;
    signal?: AbortSignal;
    onRetry?: (error: TeacherError, delayMs: number) => void;
    random?: () => number;
  },
): Promise<RetryOutcome<T>> {
  const failures: string[] = [];
  for (let n = 1; ; n++) {
    try {
      return { value: await attempt(n), attempts: n, failures };
    } catch (e) {
      const err = isTeacherError(e) ? e : new TeacherError("network", (e as Error).message);
      if (err.kind === "auth" || err.kind === "aborted") throw err;
      failures.push(`${err.kind}: ${err.message}`);
      if (!err.isRetryable || n >= options.policy.maxAttempts) return { error: err, attempts: n, failures };
      const delay = backoffDelay(n, options.policy, err.retryAfterMs, options.random);
      options.onRetry?.(err, delay);
      await sleep(delay, options.signal);
    }
  }
}
