/**
 * Queue fairness. A run has a priority (higher first; admins may raise it). Within a priority,
 * users take turns: a run's rank is how many runs its launcher already had waiting at that
 * priority in the same engine queue (their 1st run ranks 0, their 50th ranks 49), so someone
 * else's first run goes before one person's second; among equal turns the workspace with fewer
 * waiting runs goes first, then the older run. The rank is fixed at launch, and BullMQ's job
 * priority encodes (priority, rank), so workers take runs in exactly the order the queue page shows.
 */
export const RUN_PRIORITY_MIN = -10;
export const RUN_PRIORITY_MAX = 10;
/** 21 priorities × this stays within BullMQ's largest priority (2^21) */
const RANKS_PER_PRIORITY = 99_800;

export interface QueueTurnCounts {
  /** the launcher's runs already waiting at this priority in this engine queue */
  userWaiting: number;
  /** the workspace's runs already waiting at this priority in this engine queue */
  workspaceWaiting: number;
}

/** The run's place within its priority: users' turns first, the workspace's as a tie-break. */
export function queueRankFor(counts: QueueTurnCounts): number {
  return Math.min(counts.userWaiting, 997) * 100 + Math.min(counts.workspaceWaiting, 99);
}

/** BullMQ's job priority (1 = first, larger = later, at most 2^21) for a run's priority and rank. */
export function bullmqPriorityFor(priority: number, rank: number): number {
  const p = Math.max(RUN_PRIORITY_MIN, Math.min(RUN_PRIORITY_MAX, Math.trunc(priority)));
  return (RUN_PRIORITY_MAX - p) * RANKS_PER_PRIORITY + Math.min(rank, RANKS_PER_PRIORITY - 1) + 1;
}

export interface QueuedRunKey {
  priority: number;
  queueRank: number;
  createdAt: Date | string;
}

/** The order workers take waiting runs: priority, then rank, then age. */
export function compareQueued(a: QueuedRunKey, b: QueuedRunKey): number {
  return (
    b.priority - a.priority ||
    a.queueRank - b.queueRank ||
    new Date(a.createdAt).getTime() - new Date(b.createdAt).getTime()
  );
}

/** Why a run waits, in words, from the runs ahead of it in its engine queue. */
export function waitReason(
  run: QueuedRunKey & { launchedById: string | null },
  ahead: (QueuedRunKey & { launchedById: string | null })[],
): string {
  if (ahead.length === 0) return "next: waits for a free worker";
  const higher = ahead.filter((r) => r.priority > run.priority).length;
  const turn = (r: QueuedRunKey) => Math.floor(r.queueRank / 100);
  const turns = ahead.filter((r) => r.priority === run.priority && turn(r) < turn(run)).length;
  const older = ahead.length - higher - turns;
  const parts: string[] = [];
  if (higher) parts.push(`${higher} of higher priority`);
  if (turns) parts.push(`${turns} on earlier turns (each person's next run goes first)`);
  if (older) parts.push(`${older} launched earlier`);
  return `behind ${ahead.length}: ${parts.join(", ")}`;
}
