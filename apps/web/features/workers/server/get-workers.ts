import "server-only";
import { listWorkers } from "@distillery/db";
import { getContext } from "@/lib/server/context.ts";
import { getEnv } from "@/lib/server/env.ts";

export async function getWorkers(workspaceId: string) {
  const rows = await listWorkers(getContext().db, workspaceId, getEnv().WORKER_OFFLINE_AFTER_MS);
  return rows.map((w) => ({
    id: w.id,
    host: w.host,
    pid: w.pid,
    cpuCount: w.cpuCount,
    memoryMb: w.memoryMb,
    gpus: w.gpus as { name: string; memoryMb: number }[],
    engines: w.engines,
    capabilities: w.capabilities,
    /** set when the supervisor of `npm start` restarted this worker after its previous process died */
    supervisor: readSupervisor(w.capabilities),
    version: w.version,
    startedAt: w.startedAt.toISOString(),
    lastSeenAt: w.lastSeenAt.toISOString(),
    stoppedAt: w.stoppedAt?.toISOString() ?? null,
    isOnline: w.isOnline,
    activeRuns: w.runs,
  }));
}
export type WorkerView = Awaited<ReturnType<typeof getWorkers>>[number];

function readSupervisor(
  capabilities: unknown,
): { restarts: number; lastExit: string; lastExitAt: string } | null {
  const s = (
    capabilities as { supervisor?: { restarts?: unknown; lastExit?: unknown; lastExitAt?: unknown } } | null
  )?.supervisor;
  if (!s || typeof s.restarts !== "number") return null;
  return { restarts: s.restarts, lastExit: String(s.lastExit ?? ""), lastExitAt: String(s.lastExitAt ?? "") };
}
