import { DatasetError } from "./dataset-error.ts";
import { parseJsonRecord } from "./parse-json-record.ts";
import type { RecordEvent } from "./record-event.ts";

/**
 * Streams the elements of a top-level JSON array. Hand-written because JSON.parse needs the whole
 * document in memory: this scanner only tracks strings and nesting depth to cut the text at
 * top-level commas, then JSON.parses one element at a time, so memory is bounded by the largest
 * element (capped at `maxElementChars`), and errors name the element's starting line.
 */
export async function* readJsonArray(
  source: AsyncIterable<string>,
  maxElementChars: number,
  file: string,
): AsyncGenerator<RecordEvent> {
  let state: "before" | "between" | "element" | "after" = "before";
  let depth = 0;
  let inString = false;
  let escaped = false;
  let line = 1;
  let elementLine = 1;
  let parts: string[] = [];
  let partsChars = 0;
  let overlong = false;

  function* emit(): Generator<RecordEvent> {
    const text = parts.join("");
    parts = [];
    partsChars = 0;
    if (overlong) {
      overlong = false;
      yield {
        kind: "bad",
        line: elementLine,
        reason: `array element is longer than ${maxElementChars} characters`,
      };
      return;
    }
    yield parseJsonRecord(text, elementLine, "element");
  }
  const keep = (s: string) => {
    if (overlong) return;
    partsChars += s.length;
    if (partsChars > maxElementChars) {
      overlong = true;
      parts = [];
    } else parts.push(s);
  };

  for await (const chunk of source) {
    let start = state === "element" ? 0 : -1; // where the current element's text starts in this chunk
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 10) line++;
      if (state === "element") {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 92) escaped = true;
          else if (c === 34) inString = false;
          continue;
        }
        if (c === 34) inString = true;
        else if (c === 123 || c === 91) depth++;
        else if (c === 125 || c === 93) {
          if (depth === 0) {
            // `]` closing the array right after an element
            keep(chunk.slice(start, i));
            yield* emit();
            state = "after";
            start = -1;
            continue;
          }
          depth--;
        } else if (c === 44 && depth === 0) {
          keep(chunk.slice(start, i));
          yield* emit();
          state = "between";
          start = -1;
        }
        continue;
      }
      if (c === 32 || c === 10 || c === 13 || c === 9 || c === 0xfeff) continue;
      if (state === "before") {
        if (c !== 91) throw new DatasetError("bad_format", "expected a JSON array", { file, line });
        state = "between";
      } else if (state === "between") {
        if (c === 93) {
          state = "after";
          continue;
        }
        state = "element";
        elementLine = line;
        start = i;
        depth = 0;
        i--; // rescan this character as part of the element
      } else {
        throw new DatasetError("bad_format", "unexpected text after the end of the JSON array", {
          file,
          line,
        });
      }
    }
    if ((state as string) === "element" && start !== -1) keep(chunk.slice(start));
  }
  if (state === "before") throw new DatasetError("empty", "file is empty", { file });
  if (state !== "after")
    throw new DatasetError("bad_format", "file ends inside the JSON array (missing `]`)", { file, line });
}
