import { z } from "zod";

/** A URL setting with one of `protocols` and a host; the message names both and shows an example. */
export function zServiceUrl(protocols: string[], example: string) {
  return z.string({ error: `is required (e.g. ${example})` }).refine(
    (v) => {
      try {
        const u = new URL(v);
        return protocols.includes(u.protocol) && u.hostname.length > 0;
      } catch {
        return false;
      }
    },
    `must be a ${protocols.map((p) => `${p}//`).join(" or ")} URL with a host (e.g. ${example})`,
  );
}

/** DATABASE_URL and REDIS_URL, as every app parses them. */
export const ZDatabaseUrl = zServiceUrl(
  ["postgresql:", "postgres:"],
  "postgresql://user:pass@host:5432/distillery",
);
export const ZRedisUrl = zServiceUrl(["redis:", "rediss:"], "redis://127.0.0.1:6379");
