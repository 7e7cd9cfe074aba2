import { MAX_VALUE_DEPTH, valueDepth } from "@distillery/core";
import type { RecordEvent } from "./record-event.ts";

/** Control characters and lone surrogates as escapes: error texts quote the input. */
export function printable(text: string, max = 200): string {
  const clipped = text.length > max ? `${text.slice(0, max)}…` : text;
  return clipped.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what it removes
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * One JSONL line or JSON-array element → a row event. Besides JSON.parse it refuses nesting past
 * MAX_VALUE_DEPTH (a 10,000-deep array parses, then overflows the stack of whatever walks it
 * recursively: JSON.stringify, structuredClone, React) and notes a duplicated key, which
 * JSON.parse resolves silently by keeping the last value.
 */
export function parseJsonRecord(text: string, line: number, what: "line" | "element"): RecordEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: "bad", line, reason: `invalid JSON: ${printable((err as Error).message)}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const got = Array.isArray(value) ? "an array" : value === null ? "null" : typeof value;
    return {
      kind: "bad",
      line,
      reason: what === "line" ? `expected a JSON object, got ${got}` : "array element is not a JSON object",
    };
  }
  if (valueDepth(value, MAX_VALUE_DEPTH) > MAX_VALUE_DEPTH) {
    return {
      kind: "bad",
      line,
      code: "too_deep",
      reason: `the row is nested more than ${MAX_VALUE_DEPTH} levels deep (the limit is ${MAX_VALUE_DEPTH})`,
    };
  }
  const duplicateKey = findDuplicateKey(text);
  return {
    kind: "row",
    row: value as Record<string, unknown>,
    line,
    ...(duplicateKey !== null ? { duplicateKey } : {}),
  };
}

const QUOTE = 34;
const BACKSLASH = 92;

/**
 * The first key an object of this (already valid) JSON text repeats, or null. Strings are
 * skipped with indexOf, so long texts cost little; keys compare as written (escapes unresolved).
 */
export function findDuplicateKey(text: string): string | null {
  const stack: (Set<string> | null)[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i + 1;
      for (;;) {
        end = text.indexOf('"', end);
        if (end === -1) return null;
        let backslashes = 0;
        for (let k = end - 1; text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
        if (backslashes % 2 === 0) break;
        end++;
      }
      const top = stack[stack.length - 1];
      if (top) {
        let j = end + 1;
        while (j < n && text.charCodeAt(j) <= 32) j++;
        if (text.charCodeAt(j) === 58) {
          const key = text.slice(i + 1, end);
          if (top.has(key)) return key;
          top.add(key);
        }
      }
      i = end + 1;
      continue;
    }
    if (c === 123) stack.push(new Set());
    else if (c === 91) stack.push(null);
    else if (c === 125 || c === 93) stack.pop();
    i++;
  }
  return null;
}
