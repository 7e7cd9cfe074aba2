import type { Prisma } from "@distillery/db";

/**
 * PostgreSQL cannot hold U+0000 in text or jsonb (22P05). Whatever a dataset job writes to a row
 * (outputs, stats, error texts, column names from a user's file) goes through here: a NUL
 * becomes the visible `\u0000`, keys included, so the write never fails on user data.
 */
export function toStorableText(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\\u0000") : text;
}

export function toStorableJson<T>(value: T): T & Prisma.InputJsonValue {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return toStorableText(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object" && !(v instanceof Date)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (x !== undefined) out[toStorableText(k)] = walk(x);
      return out;
    }
    return v;
  };
  // a row's data is bounded in depth by the readers; outputs and stats are shallow
  return walk(value) as T & Prisma.InputJsonValue;
}
