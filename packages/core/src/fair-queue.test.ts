import { describe, expect, it } from "vitest";
import { bullmqPriorityFor, compareQueued, queueRankFor, waitReason } from "./fair-queue.ts";

describe("fair queue", () => {
  it("lets a second person's first run go before one person's fifty", () => {
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i));
    const alice = Array.from({ length: 50 }, (_, i) => ({
      id: `a${i}`,
      priority: 0,
      queueRank: queueRankFor({ userWaiting: i, workspaceWaiting: i }),
      createdAt: at(i),
      launchedById: "alice",
    }));
    const bob = {
      id: "b0",
      priority: 0,
      queueRank: queueRankFor({ userWaiting: 0, workspaceWaiting: 50 }),
      createdAt: at(60),
      launchedById: "bob",
    };
    const order = [...alice, bob].sort(compareQueued).map((r) => r.id);
    expect(order.slice(0, 3)).toEqual(["a0", "b0", "a1"]);
    expect(waitReason(bob, [alice[0] as (typeof alice)[number]])).toBe("behind 1: 1 launched earlier");
    const a2 = alice[2] as (typeof alice)[number];
    expect(waitReason(a2, [alice[0], bob, alice[1]] as never)).toMatch(/behind 3: 3 on earlier turns/);
  });

  it("puts a raised priority first, and encodes the same order in BullMQ's priority", () => {
    const urgent = { priority: 5, queueRank: 300, createdAt: "2026-01-02" };
    const normal = { priority: 0, queueRank: 0, createdAt: "2026-01-01" };
    expect([normal, urgent].sort(compareQueued)[0]).toBe(urgent);
    expect(bullmqPriorityFor(5, 300)).toBeLessThan(bullmqPriorityFor(0, 0));
    expect(bullmqPriorityFor(0, 0)).toBeLessThan(bullmqPriorityFor(0, 100));
    expect(bullmqPriorityFor(99, 0)).toBe(bullmqPriorityFor(10, 0));
    expect(bullmqPriorityFor(-10, 99_999)).toBeLessThanOrEqual(2 ** 21);
  });
});
