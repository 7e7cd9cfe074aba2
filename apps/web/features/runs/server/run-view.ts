import type { RunStatus } from "@distillery/db";

interface RunRow {
  id: string;
  name: string;
  engine: string;
  status: RunStatus;
  config: unknown;
  modelId: string | null;
  datasetVersionId: string | null;
  attempt: number;
  interruptions: number;
  cancelRequestedAt: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  heartbeatAt: Date | null;
  error: string | null;
  lastSeq: number;
  summary: unknown;
  claimedBy: { id: string; host: string } | null;
  launchedBy: { id: string; name: string } | null;
  model: { id: string; name: string; hubId: string | null } | null;
  datasetVersion: { id: string; version: number; dataset: { id: string; name: string } } | null;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** What the browser sees of a run (dates as ISO strings, final losses lifted from the summary). */
export function toRunView(r: RunRow) {
  const config = r.config as { model?: { id?: string }; data?: { datasetVersionId?: string } };
  const final = ((r.summary as { final?: Record<string, number> } | null)?.final ?? {}) as Record<
    string,
    number
  >;
  return {
    id: r.id,
    name: r.name,
    engine: r.engine,
    status: r.status,
    config: r.config,
    baseModel: { id: r.model?.id ?? config.model?.id ?? "", name: r.model?.name ?? config.model?.id ?? "" },
    dataset: r.datasetVersion
      ? {
          versionId: r.datasetVersion.id,
          name: r.datasetVersion.dataset.name,
          version: r.datasetVersion.version,
        }
      : {
          versionId: config.data?.datasetVersionId ?? "",
          name: config.data?.datasetVersionId ?? "(deleted)",
          version: null,
        },
    launchedBy: r.launchedBy,
    worker: r.claimedBy,
    attempt: r.attempt,
    interruptions: r.interruptions,
    isCancelRequested: r.cancelRequestedAt !== null,
    createdAt: r.createdAt.toISOString(),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    heartbeatAt: iso(r.heartbeatAt),
    error: r.error,
    lastSeq: r.lastSeq,
    final: {
      loss: typeof final.loss === "number" ? final.loss : null,
      evalLoss: typeof final.eval_loss === "number" ? final.eval_loss : null,
    },
  };
}
export type RunView = ReturnType<typeof toRunView>;
