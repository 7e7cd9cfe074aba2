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
  return parseDeltaText(text.slice(from, to));
}

/** A delta's JSON text parsed alone: the object, or undefined when it is not one. */
export function parseDeltaText(json: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The text fields a delta carries, most common first. */
const TEXT_KEYS = ["reasoning_content", "content", "reasoning", "thinking"] as const;
export type DeltaTextKey = (typeof TEXT_KEYS)[number];
const KEY_OPENERS = TEXT_KEYS.map((k) => `{"${k}":"`);
/** a JSON string's text that is not its value as written: a quote, a backslash, a control character */
const NEEDS_UNESCAPING = /[^ !#-[\]-\uffff]/;
/** what `NEEDS_UNESCAPING` finds, and anything past ASCII */
const PLAIN_ASCII_OR_NOT = /[^ !#-[\]-~]/;

/**
 * The most usual delta of all, one text field holding a plain string (`{"reasoning_content":
 * " the"}`, as `text[from, to)`), read without JSON.parse: exactly that spelling, and a string
 * with no quote, backslash or control character, whose value is its text as written. Anything
 * else (an escape, a space, another key, a second field): undefined, and it is parsed.
 */
export function plainDeltaIn(
  text: string,
  from: number,
  to: number,
  /** `text` holds bytes as latin1: the value's UTF-8 text when it has other than ASCII */
  decode?: (from: number, to: number) => string,
): [DeltaTextKey, string] | undefined {
  if (text.charCodeAt(to - 1) !== 125 /* } */ || text.charCodeAt(to - 2) !== 34 /* " */) return undefined;
  for (let k = 0; k < KEY_OPENERS.length; k++) {
    const opener = KEY_OPENERS[k] as string;
    if (!text.startsWith(opener, from)) continue;
    const start = from + opener.length;
    if (start > to - 2) return undefined;
    const value = text.slice(start, to - 2);
    // one test for the usual plain ASCII text, a second only when it is not
    if (!PLAIN_ASCII_OR_NOT.test(value)) return [TEXT_KEYS[k] as DeltaTextKey, value];
    if (NEEDS_UNESCAPING.test(value)) return undefined;
    return [TEXT_KEYS[k] as DeltaTextKey, decode ? decode(start, to - 2) : value];
  }
  return undefined;
}
