import { sleep } from "./retry-policy.ts";

/**
 * Requests per minute and tokens per minute, as two token buckets refilled continuously (a
 * full minute's allowance at most, so a burst never exceeds the limit). A request takes one
 * request and its estimated tokens before it is sent; once its usage is known the difference
 * is settled, so the tokens/min limit follows what the teacher really counted.
 */
export function createRateLimiter(limits: { requestsPerMinute?: number; tokensPerMinute?: number }) {
  const rpm = limits.requestsPerMinute && limits.requestsPerMinute > 0 ? limits.requestsPerMinute : null;
  const tpm = limits.tokensPerMinute && limits.tokensPerMinute > 0 ? limits.tokensPerMinute : null;
  let requests = rpm ?? 0;
  let tokens = tpm ?? 0;
  let last = performance.now();
  const refill = () => {
    const now = performance.now();
    const minutes = (now - last) / 60_000;
    last = now;
    if (rpm) requests = Math.min(rpm, requests + minutes * rpm);
    if (tpm) tokens = Math.min(tpm, tokens + minutes * tpm);
  };
  /** ms until both buckets hold what is asked (0: now) */
  const waitFor = (estimate: number) => {
    refill();
    let ms = 0;
    if (rpm && requests < 1) ms = Math.max(ms, ((1 - requests) / rpm) * 60_000);
    // a request bigger than the whole minute's allowance waits for a full bucket, then goes
    const need = tpm ? Math.min(estimate, tpm) : 0;
    if (tpm && tokens < need) ms = Math.max(ms, ((need - tokens) / tpm) * 60_000);
    return Math.ceil(ms);
  };
  let queue: Promise<void> = Promise.resolve();
  return {
    isLimited: rpm !== null || tpm !== null,
    /** waits (in arrival order) until a request of about `estimate` tokens may go */
    acquire(estimate: number, signal?: AbortSignal): Promise<void> {
      if (!rpm && !tpm) return Promise.resolve();
      const turn = queue.then(async () => {
        for (let ms = waitFor(estimate); ms > 0; ms = waitFor(estimate)) await sleep(ms, signal);
        if (rpm) requests -= 1;
        if (tpm) tokens -= estimate;
      });
      queue = turn.catch(() => {});
      return turn;
    },
    /** the request used `actual` tokens where `estimate` were taken */
    settle(estimate: number, actual: number) {
      if (tpm) tokens -= actual - estimate;
    },
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;
