import type { ByteStream } from "./byte-stream.ts";
import { DatasetError } from "./dataset-error.ts";

/** Decodes a byte stream as strict UTF-8 (BOM dropped); invalid bytes are a file-level error. */
export async function* decodeUtf8(source: ByteStream, file: string): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let offset = 0;
  try {
    for await (const chunk of source) {
      const text = decoder.decode(chunk, { stream: true });
      offset += chunk.length;
      if (text) yield text;
    }
    const tail = decoder.decode();
    if (tail) yield tail;
  } catch (err) {
    if (err instanceof TypeError) {
      throw new DatasetError(
        "bad_encoding",
        `not valid UTF-8 (somewhere after byte ${offset}); save the file as UTF-8`,
        { file },
      );
    }
    throw err;
  }
}
