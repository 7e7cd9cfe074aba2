import { z } from "zod";

export const ZRole = z.enum(["viewer", "member", "admin", "owner"]);
export const ZTokenScope = z.enum(["read", "write", "admin"]);
export const ZPassword = z.string().min(8, "at least 8 characters").max(128, "at most 128 characters");
export const ZNewAccount = z.object({
  name: z.string().trim().min(1, "name is required").max(100),
  email: z.email("not an email address").max(200),
  password: ZPassword,
});
export const ZSetupBody = z.union([ZNewAccount, z.object({ local: z.literal(true) })]);
export const ZCreateToken = z.object({
  name: z.string().trim().min(1, "name is required").max(100),
  scope: ZTokenScope,
  /** days until it expires; null: never */
  expiresInDays: z.number().int().min(1).max(3650).nullable().default(90),
});
export const ZCreateInvitation = z.object({
  role: ZRole.exclude(["owner"]),
  expiresInHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(72),
});
export const ZAcceptInvitation = z.object({ account: ZNewAccount.optional() });
