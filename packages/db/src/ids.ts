import { randomBytes } from "node:crypto";

/** Sortable, URL-safe ids: a prefix, 8 hex chars of time, 12 of randomness (e.g. run_0191f3a2…). */
export function newId(prefix: string): string {
  const time = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, "0");
  return `${prefix}_${time}${randomBytes(6).toString("hex")}`;
}
