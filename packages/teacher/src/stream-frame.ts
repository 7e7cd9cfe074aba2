/**
 * Streamed chat chunks from one server mostly share one frame: every byte but the delta is the
 * same (`{"id":"…","object":"chat.completion.chunk","created":…,"model":"…","choices":[{"index":0,
 * "delta":{…},"finish_reason":null}]}`). Once one chunk is parsed in full, its frame is learnt:
 * the text before the delta's value and the text after it. A later chunk with exactly that
 * prefix and suffix has only its delta parsed — about a fifth of the bytes, and no objects for
 * the frame. It reads the same as a full parse: JSON's grammar takes any value in that place, so
 * a valid value between a valid document's prefix and suffix makes a valid document that differs
 * from it in that value only. Anything else (another frame, a finish reason, usage, a value that
 * does not parse alone) is parsed in full, as before.
 */
export interface StreamFrame {
  prefix: string;
  suffix: string;
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** The end (exclusive) of the JSON string starting at `i` (a `"`), or -1. */
function stringEnd(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 92 /* \ */) j++;
    else if (c === 34 /* " */) return j + 1;
  }
  return -1;
}

/** The end (exclusive) of the object or array starting at `i`, or -1. */
function containerEnd(s: string, i: number): number {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 34) {
      j = stringEnd(s, j) - 1;
      if (j < 0) return -1;
    } else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return -1;
}

/**
 * The frame of a chunk that parsed in full as `{…"choices":[{…"delta":{…}…}]…}` with a single
 * `"delta"` key in the whole text (outside strings), or null.
 */
export function learnStreamFrame(data: string): StreamFrame | null {
  let valueStart = -1;
  for (let i = 0; i < data.length; i++) {
    if (data.charCodeAt(i) !== 34) continue;
    const end = stringEnd(data, i);
    if (end < 0) return null;
    let k = end;
    while (k < data.length && isSpace(data.charCodeAt(k))) k++;
    // a key: the string is followed by a colon
    if (data.charCodeAt(k) === 58 && end - i === 7 && data.startsWith('"delta"', i)) {
      if (valueStart !== -1) return null;
      k++;
      while (k < data.length && isSpace(data.charCodeAt(k))) k++;
      valueStart = k;
    }
    i = end - 1;
  }
  if (valueStart < 0 || data.charCodeAt(valueStart) !== 123) return null;
  const valueEnd = containerEnd(data, valueStart);
  if (valueEnd < 0) return null;
  return { prefix: data.slice(0, valueStart), suffix: data.slice(valueEnd) };
}

/** The delta of a chunk in `frame`, parsed alone; undefined when the chunk is not in that frame. */
export function parseFramedDelta(data: string, frame: StreamFrame): Record<string, unknown> | undefined {
  return framedDeltaIn(data, 0, data.length, frame.prefix, frame.suffix);
}

/**
 * The same for the chunk text `text[start, end)` read in place (no copy of the chunk): it must
 * start with `prefix` (for an SSE line, `data: ` and the frame's prefix) and end with `suffix`.
 */
export function framedDeltaIn(
  text: string,
  start: number,
  end: number,
  prefix: string,
  suffix: string,
): Record<string, unknown> | undefined {
  const from = start + prefix.length;
  const to = end - suffix.length;
  if (to <= from || !text.startsWith(prefix, start) || !text.startsWith(suffix, to)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(from, to));
  } catch {
    return undefined;
  }
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
