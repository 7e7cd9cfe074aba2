import { Readable, Transform } from "node:stream";
import type { BlobStore } from "@distillery/storage";
import { AppError } from "@/lib/server/app-error.ts";

export function formatBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

const tooLarge = (maxBytes: number) =>
  new AppError(
    "payload_too_large",
    `the upload is larger than the limit of ${formatBytes(maxBytes)} (${maxBytes} bytes)`,
  );

/**
 * Streams a request body into the blob store at `key`, chunk by chunk (never buffered whole),
 * counting bytes: past `maxBytes` the stream is cut, the partial blob removed, and a 413 names
 * the limit. A Content-Length over the limit is refused before a byte is read.
 */
export async function receiveUpload(input: {
  body: ReadableStream<Uint8Array> | null;
  contentLength: string | null;
  store: BlobStore;
  key: string;
  maxBytes: number;
}): Promise<{ bytes: number }> {
  const { store, key, maxBytes } = input;
  const declared = input.contentLength === null ? Number.NaN : Number(input.contentLength);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await input.body?.cancel().catch(() => {});
    throw tooLarge(maxBytes);
  }
  if (!input.body)
    throw new AppError("bad_request", "the upload is empty: send the file as the request body");
  let seen = 0;
  let isOver = false;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > maxBytes) {
        isOver = true;
        done(tooLarge(maxBytes));
        return;
      }
      done(null, chunk);
    },
  });
  const source = Readable.fromWeb(input.body as import("node:stream/web").ReadableStream<Uint8Array>);
  source.on("error", (e) => limit.destroy(e));
  try {
    await store.put(key, source.pipe(limit));
  } catch (e) {
    source.destroy();
    await store.delete(key).catch(() => {});
    if (isOver) throw tooLarge(maxBytes);
    throw e;
  }
  if (seen === 0) {
    await store.delete(key).catch(() => {});
    throw new AppError("bad_request", "the upload is empty: send the file as the request body");
  }
  return { bytes: seen };
}
