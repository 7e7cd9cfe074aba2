import { type Db, newId, type Prisma } from "@distillery/db";
import { decryptSecret, encryptSecret } from "../secret-box.ts";
import type { TeacherApi, TeacherEndpoint } from "../teacher-endpoint.ts";

export interface TeacherInput {
  name: string;
  api: TeacherApi;
  baseUrl: string;
  model: string;
  /** undefined: keep the stored key; null or "": remove it */
  apiKey?: string | null;
  priceInPerM: number;
  priceOutPerM: number;
}

/** What routes return: everything but the key (only whether there is one). */
const PUBLIC = {
  id: true,
  name: true,
  api: true,
  baseUrl: true,
  model: true,
  priceInPerM: true,
  priceOutPerM: true,
  lastTest: true,
  createdAt: true,
  updatedAt: true,
  apiKeySealed: true,
} as const;

type Row = Prisma.TeacherGetPayload<{ select: typeof PUBLIC }>;
export type PublicTeacher = Omit<Row, "apiKeySealed"> & { hasApiKey: boolean };

export function toPublicTeacher(row: Row): PublicTeacher {
  const { apiKeySealed, ...rest } = row;
  return { ...rest, hasApiKey: apiKeySealed !== null };
}

export async function createTeacher(
  db: Db,
  key: Buffer,
  input: TeacherInput & { workspaceId: string; createdById?: string | null },
): Promise<PublicTeacher> {
  const { apiKey, ...fields } = input;
  const row = await db.teacher.create({
    data: { id: newId("tch"), ...fields, apiKeySealed: apiKey ? encryptSecret(apiKey, key) : null },
    select: PUBLIC,
  });
  return toPublicTeacher(row);
}

export async function updateTeacher(
  db: Db,
  key: Buffer,
  workspaceId: string,
  id: string,
  input: Partial<TeacherInput>,
): Promise<PublicTeacher | null> {
  const { apiKey, ...fields } = input;
  const data: Prisma.TeacherUpdateManyMutationInput = { ...fields };
  if (apiKey !== undefined) data.apiKeySealed = apiKey ? encryptSecret(apiKey, key) : null;
  const { count } = await db.teacher.updateMany({ where: { id, workspaceId }, data });
  if (count === 0) return null;
  const row = await db.teacher.findFirst({ where: { id, workspaceId }, select: PUBLIC });
  return row ? toPublicTeacher(row) : null;
}

export async function listTeachers(db: Db, workspaceId: string): Promise<PublicTeacher[]> {
  const rows = await db.teacher.findMany({
    where: { workspaceId },
    orderBy: { createdAt: "asc" },
    select: PUBLIC,
  });
  return rows.map(toPublicTeacher);
}

export async function getTeacher(db: Db, workspaceId: string, id: string): Promise<PublicTeacher | null> {
  const row = await db.teacher.findFirst({ where: { id, workspaceId }, select: PUBLIC });
  return row ? toPublicTeacher(row) : null;
}

export async function deleteTeacher(db: Db, workspaceId: string, id: string): Promise<boolean> {
  const { count } = await db.teacher.deleteMany({ where: { id, workspaceId } });
  return count === 1;
}

/** The endpoint with its key opened, for the server's own requests only. */
export async function loadTeacherEndpoint(
  db: Db,
  key: Buffer,
  workspaceId: string,
  id: string,
): Promise<(TeacherEndpoint & { priceInPerM: number; priceOutPerM: number }) | null> {
  const row = await db.teacher.findFirst({ where: { id, workspaceId } });
  if (!row) return null;
  return {
    name: row.name,
    api: row.api === "ollama" ? "ollama" : "openai",
    baseUrl: row.baseUrl,
    model: row.model,
    ...(row.apiKeySealed ? { apiKey: decryptSecret(row.apiKeySealed, key) } : {}),
    priceInPerM: row.priceInPerM,
    priceOutPerM: row.priceOutPerM,
  };
}

export async function saveTeacherTest(
  db: Db,
  workspaceId: string,
  id: string,
  report: Prisma.InputJsonValue,
) {
  await db.teacher.updateMany({ where: { id, workspaceId }, data: { lastTest: report } });
}
