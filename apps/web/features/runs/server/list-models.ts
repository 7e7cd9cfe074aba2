import "server-only";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { toModelView } from "@/features/models/server/model-views.ts";
import { getContext } from "@/lib/server/context.ts";
import { getEnv } from "@/lib/server/env.ts";
import { KNOWN_MODEL_SHAPES, type ModelShape, shapeFromModelConfig } from "../lib/model-shapes.ts";

function readConfigJson(dir: string): unknown {
  try {
    return JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  } catch {
    return null;
  }
}

/**
 * A model's shape, from the first source that has it: the config stored on the row, its
 * config.json in a local HF directory or in the embedded blob folder (`blob:<prefix>`), or the
 * known shape of its Hub id.
 */
function readShape(m: {
  config: unknown;
  location: string | null;
  hubId: string | null;
  name: string;
}): ModelShape | null {
  const location = m.location ?? "";
  const dir = location.startsWith("blob:")
    ? join(getEnv().DISTILLERY_DATA_DIR, "blobs", location.slice(5))
    : location && !/^[a-z0-9]+:\/\//i.test(location)
      ? location
      : null;
  return (
    shapeFromModelConfig(m.config) ??
    (dir ? shapeFromModelConfig(readConfigJson(dir)) : null) ??
    KNOWN_MODEL_SHAPES[m.hubId ?? ""] ??
    KNOWN_MODEL_SHAPES[m.name] ??
    null
  );
}

/** Base models of the workspace for the new-run form, with what the launch summary needs. */
export async function listModels(workspaceId: string) {
  const rows = await getContext().db.model.findMany({
    where: { workspaceId },
    orderBy: { createdAt: "desc" },
    take: 500,
  });
  return rows.map((m) => ({ ...toModelView(m), chatTemplate: m.chatTemplate !== null, shape: readShape(m) }));
}
export type ModelView = Awaited<ReturnType<typeof listModels>>[number];
