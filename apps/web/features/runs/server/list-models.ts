import "server-only";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getContext } from "@/lib/server/context.ts";
import { KNOWN_MODEL_SHAPES, type ModelShape, shapeFromModelConfig } from "../lib/model-shapes.ts";

/** A model's shape: its config.json when the weights are a local HF directory, else a known Hub shape. */
function readShape(m: { location: string | null; hubId: string | null; name: string }): ModelShape | null {
  if (m.location && !/^[a-z0-9]+:\/\//i.test(m.location)) {
    try {
      const shape = shapeFromModelConfig(JSON.parse(readFileSync(join(m.location, "config.json"), "utf8")));
      if (shape) return shape;
    } catch {
      // not a local directory (a blob key, or gone): fall through
    }
  }
  return KNOWN_MODEL_SHAPES[m.hubId ?? ""] ?? KNOWN_MODEL_SHAPES[m.name] ?? null;
}

/** Base models of the workspace for the new-run form, with what the launch summary needs. */
export async function listModels(workspaceId: string) {
  const rows = await getContext().db.model.findMany({ where: { workspaceId }, orderBy: { createdAt: "desc" }, take: 500 });
  return rows.map((m) => ({
    id: m.id,
    name: m.name,
    hubId: m.hubId,
    architecture: m.architecture,
    parameters: m.parameters === null ? null : Number(m.parameters),
    engines: m.engines,
    chatTemplate: m.chatTemplate !== null,
    shape: readShape(m),
  }));
}
export type ModelView = Awaited<ReturnType<typeof listModels>>[number];

/** Shapes the form knows for Hub ids typed by hand (engine hf). */
export const HUB_MODEL_SHAPES = KNOWN_MODEL_SHAPES;
