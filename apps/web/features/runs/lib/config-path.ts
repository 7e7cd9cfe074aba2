/** Reads a dotted path ("training.learningRate") from a plain object. */
export function getAtPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const key of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** A copy of `obj` with `value` at the dotted path (objects along the way are copied, not mutated). */
export function setAtPath<T>(obj: T, path: string, value: unknown): T {
  const [head, ...rest] = path.split(".");
  const base = (obj ?? {}) as Record<string, unknown>;
  if (!head) return obj;
  return { ...base, [head]: rest.length === 0 ? value : setAtPath(base[head], rest.join("."), value) } as T;
}

/** zod issues → the first message per dotted path; `strip` drops a prefix ("body.config."). */
export function fieldErrorMap(
  issues: { path: PropertyKey[] | string; message: string }[],
  strip = "",
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of issues) {
    let path = typeof i.path === "string" ? i.path : i.path.map(String).join(".");
    if (strip && path.startsWith(strip)) path = path.slice(strip.length);
    out[path] ??= i.message;
  }
  return out;
}
