import { z } from "zod";
import { getContext, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

/** The workspace's audit log, newest first (admins). */
export const GET = withRoute({
  permission: "admin",
  schemas: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(500).default(100),
      before: z.iso.datetime().optional(),
      action: z.string().max(60).optional(),
    }),
  },
  handler: async ({ actor, query }) => {
    const rows = await getContext().db.auditEvent.findMany({
      where: {
        workspaceId: actor.workspaceId,
        ...(query.before ? { createdAt: { lt: new Date(query.before) } } : {}),
        ...(query.action ? { action: { startsWith: query.action } } : {}),
      },
      orderBy: { createdAt: "desc" },
      take: query.limit,
    });
    return {
      events: rows.map((r) => ({
        id: r.id,
        at: r.createdAt.toISOString(),
        actorEmail: r.actorEmail,
        action: r.action,
        targetType: r.targetType,
        targetId: r.targetId,
        ip: r.ip,
        userAgent: r.userAgent,
        data: r.data,
      })),
    };
  },
});
