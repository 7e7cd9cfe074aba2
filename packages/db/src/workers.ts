import type { Db } from "./client.ts";
import type { Prisma } from "./generated/prisma/client.ts";

export interface WorkerRegistration {
  id: string;
  workspaceId: string;
  host: string;
  pid: number;
  cpuCount: number;
  memoryMb: number;
  gpus: { name: string; memoryMb: number }[];
  engines: string[];
  capabilities: Prisma.InputJsonObject;
  version: string;
}

export async function registerWorker(db: Db, w: WorkerRegistration) {
  const now = new Date();
  return db.worker.upsert({
    where: { id: w.id },
    update: { ...w, lastSeenAt: now, stoppedAt: null },
    create: { ...w, startedAt: now, lastSeenAt: now },
  });
}

/** Returns false when the row is gone (the worker should re-register). */
export async function heartbeatWorker(db: Db, workerId: string): Promise<boolean> {
  const { count } = await db.worker.updateMany({
    where: { id: workerId },
    data: { lastSeenAt: new Date(), stoppedAt: null },
  });
  return count === 1;
}

export async function markWorkerStopped(db: Db, workerId: string): Promise<void> {
  await db.worker.updateMany({ where: { id: workerId }, data: { stoppedAt: new Date() } });
}

/** A worker is online while it heartbeats: its last beat is younger than `lapseMs`. */
export function isWorkerOnline(
  w: { lastSeenAt: Date; stoppedAt: Date | null },
  lapseMs: number,
  now = Date.now(),
) {
  return w.stoppedAt === null && now - w.lastSeenAt.getTime() <= lapseMs;
}

export async function listWorkers(db: Db, workspaceId: string, lapseMs: number) {
  const rows = await db.worker.findMany({
    where: { workspaceId },
    orderBy: [{ lastSeenAt: "desc" }],
    take: 200,
    include: {
      runs: { where: { status: { in: ["claimed", "running"] } }, select: { id: true, name: true } },
    },
  });
  const now = Date.now();
  return rows.map((w) => ({ ...w, isOnline: isWorkerOnline(w, lapseMs, now) }));
}
