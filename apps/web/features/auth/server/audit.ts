import { type Db, newId } from "@distillery/db";

export interface AuditInput {
  workspaceId?: string | null;
  actorId?: string | null;
  actorEmail?: string | null;
  /** dotted verb: run.launch, run.cancel, dataset.delete, member.role, token.create, sign_in … */
  action: string;
  targetType?: string;
  targetId?: string;
  data?: Record<string, unknown>;
  /** the request, for where it came from */
  req?: Request;
}

/** The client's address as the web sees it (first X-Forwarded-For hop when behind a proxy). */
export function clientIp(req: Request | undefined): string | null {
  const forwarded = req?.headers.get("x-forwarded-for");
  if (forwarded) return forwarded.split(",")[0]?.trim() || null;
  return req?.headers.get("x-real-ip") ?? null;
}

/** Appends one audit event; never throws into the caller's path (the action already happened). */
export async function recordAudit(db: Db, input: AuditInput): Promise<void> {
  try {
    await db.auditEvent.create({
      data: {
        id: newId("aud"),
        workspaceId: input.workspaceId ?? null,
        actorId: input.actorId || null,
        actorEmail: input.actorEmail || null,
        action: input.action,
        targetType: input.targetType ?? null,
        targetId: input.targetId ?? null,
        ip: clientIp(input.req),
        userAgent: input.req?.headers.get("user-agent")?.slice(0, 300) ?? null,
        data: (input.data ?? {}) as object,
      },
    });
  } catch (e) {
    console.error(`[web] could not record audit event ${input.action}: ${(e as Error).message}`);
  }
}
