import "server-only";
import type { Prisma } from "@distillery/db";
import { testTeacherConnection } from "@distillery/teacher";
import {
  createTeacher,
  deleteTeacher,
  getTeacher,
  listTeachers,
  loadTeacherEndpoint,
  saveTeacherTest,
  updateTeacher,
} from "@distillery/teacher/store";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import type { TeacherBody } from "./teacher-schemas.ts";
import { getTeacherSecretKey } from "./teacher-secret-key.ts";

const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === "P2002";

export function listWorkspaceTeachers(workspaceId: string) {
  return listTeachers(getContext().db, workspaceId);
}

export async function addTeacher(workspaceId: string, createdById: string, body: TeacherBody) {
  try {
    return await createTeacher(getContext().db, getTeacherSecretKey(), {
      ...body,
      workspaceId,
      createdById,
      apiKey: body.apiKey ?? null,
    });
  } catch (e) {
    if (isUniqueViolation(e)) {
      throw new AppError("conflict", `a teacher named "${body.name}" exists`, [
        { field: "body.name", message: "already taken" },
      ]);
    }
    throw e;
  }
}

export async function editTeacher(workspaceId: string, id: string, patch: Partial<TeacherBody>) {
  const t = await updateTeacher(getContext().db, getTeacherSecretKey(), workspaceId, id, patch).catch((e) => {
    if (isUniqueViolation(e)) throw new AppError("conflict", `a teacher named "${patch.name}" exists`);
    throw e;
  });
  if (!t) throw new AppError("not_found", "no such teacher");
  return t;
}

export async function removeTeacher(workspaceId: string, id: string) {
  if (!(await deleteTeacher(getContext().db, workspaceId, id)))
    throw new AppError("not_found", "no such teacher");
  return { deleted: true };
}

/** Test connection: models, one short request, latency, where the reasoning came back. */
export async function testTeacher(workspaceId: string, id: string) {
  const { db } = getContext();
  const endpoint = await loadTeacherEndpoint(db, getTeacherSecretKey(), workspaceId, id);
  if (!endpoint) throw new AppError("not_found", "no such teacher");
  const report = await testTeacherConnection(endpoint, { timeoutMs: 20_000 });
  const stored = { ...report, testedAt: new Date().toISOString() };
  await saveTeacherTest(db, workspaceId, id, stored as unknown as Prisma.InputJsonValue);
  return stored;
}

export async function findTeacherOrThrow(workspaceId: string, id: string) {
  const t = await getTeacher(getContext().db, workspaceId, id);
  if (!t) throw new AppError("not_found", "no such teacher");
  return t;
}
