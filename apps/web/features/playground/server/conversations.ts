import "server-only";
import { newId, type Prisma } from "@distillery/db";
import type { z } from "zod";
import { AppError, getContext } from "@/lib/server/route.ts";
import type { ConversationData, ZSaveConversation } from "../lib/conversation.ts";

type Save = z.infer<typeof ZSaveConversation>;

function titleOf(input: Save): string {
  return input.title ?? (input.data.turns[0]?.user.slice(0, 80) || "New conversation");
}

function toView(row: {
  id: string;
  title: string;
  data: unknown;
  createdById: string | null;
  createdAt: Date;
  updatedAt: Date;
}) {
  return {
    id: row.id,
    title: row.title,
    data: row.data as ConversationData,
    createdById: row.createdById,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
export type ConversationView = ReturnType<typeof toView>;

export async function listConversations(workspaceId: string) {
  const rows = await getContext().db.conversation.findMany({
    where: { workspaceId },
    orderBy: { updatedAt: "desc" },
    take: 100,
    select: { id: true, title: true, createdById: true, createdAt: true, updatedAt: true },
  });
  return rows.map((r) => ({
    ...r,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  }));
}

export async function createConversation(actor: { workspaceId: string; userId: string }, input: Save) {
  const row = await getContext().db.conversation.create({
    data: {
      id: newId("conv"),
      workspaceId: actor.workspaceId,
      title: titleOf(input),
      data: input.data as Prisma.InputJsonValue,
      createdById: actor.userId || null,
    },
  });
  return toView(row);
}

/** Teammates open any conversation of the workspace; saving one updates it for everyone. */
export async function getConversation(workspaceId: string, id: string) {
  const row = await getContext().db.conversation.findFirst({ where: { id, workspaceId } });
  if (!row) throw new AppError("not_found", `no conversation ${id}`);
  return toView(row);
}

export async function saveConversation(workspaceId: string, id: string, input: Save) {
  const { db } = getContext();
  const updated = await db.conversation.updateMany({
    where: { id, workspaceId },
    data: { title: titleOf(input), data: input.data as Prisma.InputJsonValue },
  });
  if (updated.count === 0) throw new AppError("not_found", `no conversation ${id}`);
  return getConversation(workspaceId, id);
}
