import { AppError } from "@/lib/server/app-error.ts";
import { type Actor, canManage } from "@/lib/server/with-route.ts";

/**
 * A member acts on their own rows only; admins and owners on anyone's in the workspace. Call it
 * after finding the row in the actor's workspace (a row of another workspace is a 404 before this).
 */
export function assertCanManage(actor: Actor, createdById: string | null | undefined, what: string): void {
  if (canManage(actor, createdById)) return;
  throw new AppError(
    "forbidden",
    actor.role === "viewer"
      ? `a viewer cannot change ${what}`
      : `only its creator or an admin can change ${what}`,
  );
}
