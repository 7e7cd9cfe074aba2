import "server-only";
import type { StoredModelFacts } from "@distillery/catalog";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";

type ModelRow = Awaited<ReturnType<ReturnType<typeof getContext>["db"]["model"]["findFirstOrThrow"]>>;

/** A model as the Models page and the run form see it: identity, facts, and who can train it. */
export function toModelView(m: ModelRow) {
  const facts = (m.facts ?? null) as StoredModelFacts | null;
  const config = (m.config ?? {}) as Record<string, unknown>;
  return {
    id: m.id,
    name: m.name,
    hubId: m.hubId,
    architecture: m.architecture,
    parameters: m.parameters === null ? null : Number(m.parameters),
    parametersFrom: facts?.parametersFrom ?? (m.parameters === null ? null : "config"),
    dtype: facts?.dtype ?? (typeof config.torch_dtype === "string" ? config.torch_dtype : null),
    contextLength:
      facts?.contextLength ??
      (typeof config.max_position_embeddings === "number" ? config.max_position_embeddings : null),
    hasChatTemplate: m.chatTemplate !== null,
    specialTokens: facts?.specialTokens ?? null,
    engines: m.engines,
    engineReasons: facts?.engineReasons ?? {},
    bytes: facts?.bytes ?? null,
    weightFiles: facts?.weightFiles ?? [],
    source: facts?.source ?? null,
    location: m.location,
    createdAt: m.createdAt.toISOString(),
  };
}
export type ModelView = ReturnType<typeof toModelView>;

/** One model with its chat template text (the list leaves it out: templates run to kilobytes). */
export async function getModelDetail(workspaceId: string, modelId: string) {
  const row = await getContext().db.model.findFirst({ where: { id: modelId, workspaceId } });
  if (!row) throw new AppError("not_found", `model ${modelId} not found`);
  return { model: { ...toModelView(row), chatTemplate: row.chatTemplate } };
}
