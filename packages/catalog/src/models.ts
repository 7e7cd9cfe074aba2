import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Db, newId, type Prisma } from "@distillery/db";
import type { BlobStore } from "@distillery/storage";
import {
  estimateParametersFromConfig,
  inspectModelDir,
  listFilesUnder,
  type ModelFacts,
  trainableEngines,
} from "./inspect-model-dir.ts";

/** Parameter count from an HF config.json (Llama/Qwen2 shapes), for the launch summary. */
export function countLlamaParameters(config: Record<string, number | boolean | string | undefined>): number {
  return estimateParametersFromConfig(config) ?? 0;
}

/** What a Model row records of a folder's facts (JSON-safe; engines with reasons). */
export type StoredModelFacts = Omit<ModelFacts, "chatTemplate"> & {
  hasChatTemplate: boolean;
  engineReasons: Record<string, string>;
  source: {
    kind: "hub" | "upload" | "path" | "run" | "seed";
    hubId?: string;
    revision?: string;
    path?: string;
  };
};

function modelRowData(dir: string, source: StoredModelFacts["source"], engines?: string[]) {
  const facts = inspectModelDir(dir);
  const config = JSON.parse(JSON.stringify(readConfig(dir))) as Prisma.InputJsonValue;
  const decided = trainableEngines(facts);
  const { chatTemplate, ...rest } = facts;
  const stored: StoredModelFacts = {
    ...rest,
    hasChatTemplate: chatTemplate !== null,
    engineReasons: decided.reasons,
    source,
  };
  return {
    architecture: facts.architecture,
    parameters: facts.parameters === null ? null : BigInt(facts.parameters),
    chatTemplate,
    config,
    facts: stored as unknown as Prisma.InputJsonValue,
    engines: engines ?? decided.engines,
  };
}

function readConfig(dir: string): unknown {
  // inspectModelDir has already checked that it parses
  return JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
}

/**
 * Registers a local HF model directory as a base model: its files go to `models/<id>/` in blob
 * storage (so every worker can fetch them), its row records shape, size, chat template and the
 * facts the Models page shows. `engines` overrides which engines may train it.
 */
export async function registerModelDir(
  db: Db,
  store: BlobStore,
  input: {
    workspaceId: string;
    name: string;
    dir: string;
    hubId?: string;
    revision?: string;
    engines?: string[];
    id?: string;
    source?: StoredModelFacts["source"]["kind"];
  },
) {
  const data = modelRowData(
    input.dir,
    { kind: input.source ?? (input.hubId ? "hub" : "run"), hubId: input.hubId, revision: input.revision },
    input.engines,
  );
  const existing = await db.model.findUnique({
    where: { workspaceId_name: { workspaceId: input.workspaceId, name: input.name } },
    select: { id: true },
  });
  const id = existing?.id ?? input.id ?? newId("mdl");
  const prefix = `models/${id}`;
  for (const rel of listFilesUnder(input.dir)) {
    const file = join(input.dir, ...rel.split("/"));
    if (!statSync(file).isFile() || rel.endsWith(".incomplete")) continue;
    await store.putFile(`${prefix}/${rel}`, file);
  }
  return db.model.upsert({
    where: { workspaceId_name: { workspaceId: input.workspaceId, name: input.name } },
    update: { ...data, location: `blob:${prefix}`, hubId: input.hubId ?? undefined },
    create: {
      id,
      workspaceId: input.workspaceId,
      name: input.name,
      hubId: input.hubId ?? null,
      location: `blob:${prefix}`,
      ...data,
    },
  });
}

/**
 * Registers a folder that stays where it is (a path on a worker's disk, a shared mount): nothing
 * is copied; runs read it in place, so it must be readable by the worker that runs them.
 */
export async function registerModelPath(db: Db, input: { workspaceId: string; name: string; dir: string }) {
  const data = modelRowData(input.dir, { kind: "path", path: input.dir });
  return db.model.upsert({
    where: { workspaceId_name: { workspaceId: input.workspaceId, name: input.name } },
    update: { ...data, location: input.dir },
    create: {
      id: newId("mdl"),
      workspaceId: input.workspaceId,
      name: input.name,
      location: input.dir,
      ...data,
    },
  });
}

/** A Hub model the hf engine loads by id (no local files). */
export async function registerHubModel(
  db: Db,
  input: { workspaceId: string; name: string; hubId: string; parameters?: number },
) {
  return db.model.upsert({
    where: { workspaceId_name: { workspaceId: input.workspaceId, name: input.name } },
    update: {},
    create: {
      id: newId("mdl"),
      workspaceId: input.workspaceId,
      name: input.name,
      hubId: input.hubId,
      parameters: input.parameters ? BigInt(input.parameters) : null,
      engines: ["hf"],
    },
  });
}
