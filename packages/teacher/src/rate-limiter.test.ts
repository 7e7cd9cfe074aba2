import { describe, expect, it } from "vitest";
import { createRateLimiter } from "./rate-limiter.ts";
import { backoffDelay } from "./retry-policy.ts";

describe("createRateLimiter", () => {
  it("lets a minute's allowance go, then makes the next request wait", async () => {
    const limiter = createRateLimiter({ requestsPerMinute: 3 });
    for (let i = 0; i < 3; i++) await limiter.acquire(0);
    const controller = new AbortController();
    let isGranted = false;
    const fourth = limiter.acquire(0, controller.signal).then(() => {
      isGranted = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(isGranted).toBe(false);
    controller.abort();
    await expect(fourth).rejects.toThrow("cancelled");
  });

  it("counts tokens and settles them with the real usage", async () => {
    const limiter = createRateLimiter({ tokensPerMinute: 1000 });
    await limiter.acquire(600);
    // the request really used 100: 900 are left, so 800 may go at once
    limiter.settle(600, 100);
    let isGranted = false;
    await limiter.acquire(800).then(() => {
      isGranted = true;
    });
    expect(isGranted).toBe(true);
    const controller = new AbortController();
    const next = limiter.acquire(500, controller.signal);
    let isNextGranted = false;
    void next.then(
      () => {
        isNextGranted = true;
      },
      () => {},
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(isNextGranted).toBe(false);
    controller.abort();
  });

  it("is a no-op without limits", async () => {
    const limiter = createRateLimiter({});
    expect(limiter.isLimited).toBe(false);
    for (let i = 0; i < 1000; i++) await limiter.acquire(1e9);
  });
});

describe("backoffDelay", () => {
  const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  it("grows exponentially with full jitter, capped, and honours Retry-After", () => {
    expect(backoffDelay(1, policy, undefined, () => 0.999)).toBe(99);
    expect(backoffDelay(3, policy, undefined, () => 0.999)).toBe(399);
    expect(backoffDelay(10, policy, undefined, () => 0.999)).toBe(999);
    expect(backoffDelay(1, policy, undefined, () => 0)).toBe(0);
    expect(backoffDelay(1, policy, 5000, () => 0.5)).toBe(5000);
  });
});
