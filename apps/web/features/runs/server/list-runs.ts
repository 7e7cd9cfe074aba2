import "server-only";
import type { Prisma } from "@distillery/db";
import { z } from "zod";
import { getContext } from "@/lib/server/context.ts";
import { RUN_VIEW_INCLUDE } from "./launch-run.ts";
import { toRunView } from "./run-view.ts";

const STATUSES = ["queued", "claimed", "running", "succeeded", "failed", "cancelled"] as const;
const csv = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((s) => s.split(",").filter(Boolean))
    .pipe(z.array(item))
    .optional();

export const ZListRunsQuery = z.object({
  status: csv(z.enum(STATUSES, { error: `must be one of ${STATUSES.join(", ")}` })),
  engine: z.enum(["local", "hf"]).optional(),
  /** the config's model id (a Model id or a Hub id) */
  model: z.string().min(1).optional(),
  datasetVersion: z.string().min(1).optional(),
  launchedBy: z.string().min(1).optional(),
  take: z.coerce.number().int().min(1).max(500).default(100),
});
export type ListRunsQuery = z.infer<typeof ZListRunsQuery>;

/** The team's shared run history, newest first, with the options its filters offer. */
export async function listRunViews(workspaceId: string, q: ListRunsQuery) {
  const { db } = getContext();
  const where: Prisma.RunWhereInput = {
    workspaceId,
    ...(q.status?.length ? { status: { in: q.status } } : {}),
    ...(q.engine ? { engine: q.engine } : {}),
    ...(q.model ? { config: { path: ["model", "id"], equals: q.model } } : {}),
    ...(q.datasetVersion ? { datasetVersionId: q.datasetVersion } : {}),
    ...(q.launchedBy ? { launchedById: q.launchedBy } : {}),
  };
  const [rows, options] = await Promise.all([
    db.run.findMany({ where, orderBy: { createdAt: "desc" }, take: q.take, include: RUN_VIEW_INCLUDE }),
    filterOptions(workspaceId),
  ]);
  return { runs: rows.map(toRunView), options };
}

async function filterOptions(workspaceId: string) {
  const { db } = getContext();
  const [models, datasets, users] = await Promise.all([
    // the config's model id: a Model id (shown by its name) or a Hub id
    db.$queryRaw<{ id: string; name: string | null }[]>`
      SELECT DISTINCT r.config->'model'->>'id' AS id, m.name FROM "Run" r
      LEFT JOIN "Model" m ON m.id = r.config->'model'->>'id'
      WHERE r."workspaceId" = ${workspaceId} ORDER BY 1 LIMIT 200`,
    db.datasetVersion.findMany({
      where: { workspaceId, runs: { some: {} } },
      select: { id: true, version: true, dataset: { select: { name: true } } },
      take: 200,
    }),
    db.user.findMany({
      where: { workspaceId, runs: { some: {} } },
      select: { id: true, name: true },
      take: 200,
    }),
  ]);
  return {
    models: models.filter((m) => m.id).map((m) => ({ id: m.id, label: m.name ?? m.id })),
    datasetVersions: datasets.map((d) => ({ id: d.id, label: `${d.dataset.name} v${d.version}` })),
    users,
  };
}
