import { createReadStream } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import { type CanonicalExample, ZCanonicalExample } from "@distillery/core";
import { DatasetError } from "./dataset-error.ts";

/**
 * Streams a committed version's rows back (the file an FsRowSink wrote). Rows were validated
 * on the way in, so they are parsed without zod unless `validate` is set.
 */
export async function* readVersionRows(
  path: string,
  options: { validate?: boolean } = {},
): AsyncGenerator<CanonicalExample> {
  const input = createReadStream(path).pipe(createGunzip());
  const decoder = new StringDecoder("utf8");
  let rest = "";
  let line = 0;
  const parse = (text: string): CanonicalExample => {
    line++;
    try {
      const value = JSON.parse(text);
      return options.validate ? ZCanonicalExample.parse(value) : (value as CanonicalExample);
    } catch (err) {
      throw new DatasetError("bad_format", `corrupt version row: ${(err as Error).message}`, {
        file: path,
        line,
      });
    }
  };
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      if (nl > start) yield parse(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest.trim() !== "") yield parse(rest);
}
