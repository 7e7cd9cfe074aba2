import { randomBytes } from "node:crypto";
import type { Db } from "@distillery/db";

/** A deployment-wide value made once (first writer wins, every process then reads the same). */
export async function getOrCreateSetting(db: Db, key: string, make: () => string): Promise<string> {
  const found = await db.setting.findUnique({ where: { key } });
  if (found) return found.value;
  await db.setting.createMany({ data: [{ key, value: make() }], skipDuplicates: true });
  const made = await db.setting.findUniqueOrThrow({ where: { key } });
  return made.value;
}

/** This deployment's id: API tokens carry it, so a token from another deployment is named as such. */
export function getDeploymentId(db: Db): Promise<string> {
  return getOrCreateSetting(db, "deployment.id", () => randomBytes(4).toString("hex"));
}

export function getAuthSecret(db: Db): Promise<string> {
  return getOrCreateSetting(db, "auth.secret", () => randomBytes(32).toString("base64url"));
}
