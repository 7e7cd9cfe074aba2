import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Db, newId } from "@distillery/db";
import type { BlobStore } from "@distillery/storage";

/**
 * "Teacher logits" artifacts of dataset versions (issue 16; the TeacherLogits row is the job and
 * the artifact). Files live under `teacher-logits/<id>/` in blob storage: teacher_logits.safetensors,
 * manifest.json, tokenizer.json (packages/engine-local's format).
 */
export const TEACHER_LOGITS_STATUSES = [
  "estimating",
  "estimated",
  "queued",
  "running",
  "ready",
  "failed",
  "cancelled",
] as const;
export type TeacherLogitsStatus = (typeof TEACHER_LOGITS_STATUSES)[number];

/** the statuses a worker may be working on (cancel applies) */
export const ACTIVE_TEACHER_LOGITS_STATUSES: readonly TeacherLogitsStatus[] = [
  "estimating",
  "queued",
  "running",
];

export const TEACHER_LOGITS_FILES = [
  "teacher_logits.safetensors",
  "manifest.json",
  "tokenizer.json",
] as const;

export const teacherLogitsPrefix = (id: string) => `teacher-logits/${id}`;

/** what engine-local's manifest.json holds (the fields the catalog records) */
export interface StoredTeacherLogitsManifest {
  teacher: string;
  k: number;
  tokenizer: { sha256: string; vocabSize: number };
  dataSha256: string;
  maxSeqLength: number;
  completionOnly: boolean;
  rows: number;
  positions: number;
  bytes: number;
  seconds: number;
}

export async function createTeacherLogitsRequest(
  db: Db,
  input: {
    workspaceId: string;
    versionId: string;
    teacherModelId: string;
    teacherName: string;
    k: number;
    maxSeqLength: number;
    template: string;
    systemPrompt?: string;
    completionOnly?: boolean;
    createdById?: string | null;
  },
) {
  return db.teacherLogits.create({
    data: {
      id: newId("tlg"),
      workspaceId: input.workspaceId,
      versionId: input.versionId,
      teacherModelId: input.teacherModelId,
      teacherName: input.teacherName,
      k: input.k,
      maxSeqLength: input.maxSeqLength,
      template: input.template,
      systemPrompt: input.systemPrompt ?? null,
      completionOnly: input.completionOnly ?? true,
      status: "estimating",
      createdById: input.createdById ?? null,
    },
  });
}

/**
 * Registers a computed artifact folder: its files go to blob storage, the row records teacher,
 * k, tokenizer, size and seconds from the manifest and becomes ready. Fenced on the claim
 * (worker, attempt, running): a stale delivery registers nothing (its uploaded files are removed).
 */
export async function registerTeacherLogits(
  db: Db,
  store: BlobStore,
  input: { id: string; workerId: string; attempt: number; dir: string },
): Promise<boolean> {
  const manifest = JSON.parse(
    readFileSync(join(/*turbopackIgnore: true*/ input.dir, "manifest.json"), "utf8"),
  ) as StoredTeacherLogitsManifest;
  const prefix = teacherLogitsPrefix(input.id);
  for (const name of TEACHER_LOGITS_FILES)
    await store.putFile(`${prefix}/${name}`, join(/*turbopackIgnore: true*/ input.dir, name));
  const { count } = await db.teacherLogits.updateMany({
    where: { id: input.id, claimedById: input.workerId, attempt: input.attempt, status: "running" },
    data: {
      status: "ready",
      k: manifest.k,
      maxSeqLength: manifest.maxSeqLength,
      completionOnly: manifest.completionOnly,
      tokenizerSha256: manifest.tokenizer.sha256,
      vocabSize: manifest.tokenizer.vocabSize,
      rows: manifest.rows,
      positions: manifest.positions,
      bytes: BigInt(manifest.bytes),
      seconds: manifest.seconds,
      blobPrefix: prefix,
      progress: { rowsDone: manifest.rows, rows: manifest.rows },
      finishedAt: new Date(),
    },
  });
  if (count !== 1) {
    for (const name of TEACHER_LOGITS_FILES) await store.delete(`${prefix}/${name}`).catch(() => {});
    return false;
  }
  return true;
}

/** The artifacts of a version, newest first. */
export function listTeacherLogits(db: Db, workspaceId: string, versionId: string) {
  return db.teacherLogits.findMany({
    where: { workspaceId, versionId },
    orderBy: { createdAt: "desc" },
  });
}

/** Deletes an artifact's files (the row is the caller's). */
export async function deleteTeacherLogitsFiles(store: BlobStore, id: string) {
  for (const key of await store.list(`${teacherLogitsPrefix(id)}/`)) await store.delete(key).catch(() => {});
}
