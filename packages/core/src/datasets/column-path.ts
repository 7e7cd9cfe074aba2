/**
 * A mapped field names a column, or a path into a column that holds a list or an object:
 * `thinking_trajectories[0]`, `messages[-1].content`, `metadata.answer`, and `[*]` for
 * "every element, joined with a blank line" (`thinking_trajectories[*]`). A key of the row that
 * is literally the whole path (a column named `a.b`) wins over the path reading.
 *
 * Cells of CSV files hold lists and objects as JSON text; a path that steps into such a cell
 * parses it, so the same data maps the same way whichever format it came in.
 */
export type PathStep = { key: string } | { index: number } | { all: true };

export const JOIN_SEPARATOR = "\n\n";

const SEGMENT = /^(?:\.?([^.[\]]+)|\[(-?\d+|\*)\])/;

/** Parses a path; null when it is not one (then the string is only a column name). */
export function parseColumnPath(path: string): PathStep[] | null {
  const steps: PathStep[] = [];
  let rest = path;
  while (rest.length > 0) {
    const m = SEGMENT.exec(rest);
    if (!m || (steps.length === 0 && rest.startsWith("."))) return null;
    if (m[1] !== undefined) steps.push({ key: m[1] });
    else if (m[2] === "*") steps.push({ all: true });
    else steps.push({ index: Number(m[2]) });
    rest = rest.slice(m[0].length);
  }
  return steps.length > 0 && "key" in (steps[0] as PathStep) ? steps : null;
}

/** The top-level column a path reads (for "missing column" messages and column pickers). */
export function pathColumn(path: string): string {
  const steps = parseColumnPath(path);
  const first = steps?.[0];
  return first && "key" in first ? first.key : path;
}

/** Nesting deeper than this is refused (a hostile row must not overflow a recursive walk). */
export const MAX_VALUE_DEPTH = 64;

/** Depth of a JSON value, walked without recursion; stops counting past `limit`. */
export function valueDepth(value: unknown, limit = MAX_VALUE_DEPTH): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== "object" || v === null) continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, d + 1]);
    }
  }
  return max;
}

/** A CSV cell that holds JSON (a list or an object), parsed; anything else as it is. */
export function decodeJsonCell(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const t = value.trimStart();
  if (!(t.startsWith("[") || t.startsWith("{"))) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return valueDepth(parsed) > MAX_VALUE_DEPTH ? value : parsed;
  } catch {
    return value;
  }
}

export type PathValue = { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * Reads a path from a row. Missing keys and out-of-range indexes read as undefined (the caller
 * decides whether the field is required); stepping into text or a number is an error that
 * names the step.
 */
export function readPath(row: Record<string, unknown>, path: string): PathValue {
  if (Object.hasOwn(row, path)) return { ok: true, value: row[path] };
  const steps = parseColumnPath(path);
  if (!steps) return { ok: true, value: undefined };
  let current: unknown = row;
  let at = "";
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as PathStep;
    if (current === undefined || current === null) return { ok: true, value: undefined };
    if (i > 0) current = decodeJsonCell(current);
    if ("key" in step) {
      if (typeof current !== "object" || Array.isArray(current))
        return { ok: false, reason: `"${at}" is ${describeValue(current)}, it has no key "${step.key}"` };
      current = (current as Record<string, unknown>)[step.key];
      at = at === "" ? step.key : `${at}.${step.key}`;
      continue;
    }
    if (!Array.isArray(current))
      return { ok: false, reason: `"${at}" is ${describeValue(current)}, not a list` };
    if ("index" in step) {
      current = current.at(step.index);
      at = `${at}[${step.index}]`;
      continue;
    }
    // [*]: the rest of the path applies to every element; texts are joined
    const rest = steps.slice(i + 1);
    const parts: string[] = [];
    for (let j = 0; j < current.length; j++) {
      let element: unknown = current[j];
      if (rest.length > 0) {
        const sub = readPath({ v: element }, `v${stepsToString(rest)}`);
        if (!sub.ok) return sub;
        element = sub.value;
      }
      if (element === undefined || element === null) continue;
      if (typeof element !== "string")
        return { ok: false, reason: `"${at}[${j}]" is ${describeValue(element)}, not text to join` };
      parts.push(element);
    }
    return { ok: true, value: parts.length > 0 ? parts.join(JOIN_SEPARATOR) : undefined };
  }
  return { ok: true, value: current };
}

function stepsToString(steps: PathStep[]): string {
  return steps.map((s) => ("key" in s ? `.${s.key}` : "index" in s ? `[${s.index}]` : "[*]")).join("");
}

export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return "text";
  return `a ${typeof value}`;
}

/** Suggested paths for a value that is not text, for the mapping editor's hints. */
export function suggestPaths(column: string, value: unknown): string[] {
  const v = decodeJsonCell(value);
  if (Array.isArray(v)) {
    const first = v[0];
    if (typeof first === "string") return [`${column}[0]`, `${column}[-1]`, `${column}[*]`];
    if (first && typeof first === "object") return Object.keys(first).map((k) => `${column}[-1].${k}`);
    return [];
  }
  if (v && typeof v === "object")
    return Object.entries(v)
      .filter(([, x]) => typeof x === "string")
      .map(([k]) => `${column}.${k}`);
  return [];
}
