import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { DatasetError } from "./dataset-error.ts";
import { BOMB_RATIO_GRACE_BYTES, type IngestLimits } from "./ingest-limits.ts";

export type ByteStream = AsyncIterable<Buffer>;

/** Opens a file in large chunks: fewer, bigger reads are what keeps ingest near disk speed. */
export function readFileChunks(path: string): ByteStream {
  return createReadStream(path, { highWaterMark: 1 << 20 });
}

export async function* toBuffers(source: AsyncIterable<Uint8Array>): ByteStream {
  for await (const chunk of source) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
}

/** Counts bytes and stops at the limit, before the rest of an oversized upload is read. */
export async function* limitBytes(
  source: ByteStream,
  max: number,
  file: string,
  counter: { bytes: number },
): ByteStream {
  for await (const chunk of source) {
    counter.bytes += chunk.length;
    if (counter.bytes > max) {
      throw new DatasetError("too_large", `file is larger than the limit of ${formatBytes(max)}`, { file });
    }
    yield chunk;
  }
}

/** Reads until at least `n` bytes (or the end) are in hand, without losing any. */
export async function peekBytes(
  source: ByteStream,
  n: number,
): Promise<{ head: Buffer; stream: ByteStream; close: () => Promise<void> }> {
  const iterator = source[Symbol.asyncIterator]();
  const held: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < n) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    held.push(next.value);
    size += next.value.length;
  }
  const head = Buffer.concat(held);
  async function* replay(): ByteStream {
    if (head.length > 0) yield head;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  // releases the source (its file handle) when the caller will not read the stream after all
  const close = async () => {
    await iterator.return?.();
  };
  return { head, stream: replay(), close };
}

export const isGzip = (head: Buffer) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/**
 * Gunzips a stream while watching for decompression bombs: an absolute cap on output and a
 * ratio cap (after a grace amount, since small text compresses very well).
 */
export async function* gunzipGuarded(
  source: ByteStream,
  limits: IngestLimits,
  file: string,
  compressed: { bytes: number },
): ByteStream {
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  const input = Readable.from(source);
  input.on("error", (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  let out = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      out += chunk.length;
      if (out > limits.maxDecompressedBytes) {
        throw new DatasetError(
          "decompression_bomb",
          `decompresses to more than ${formatBytes(limits.maxDecompressedBytes)}`,
          { file },
        );
      }
      if (out > BOMB_RATIO_GRACE_BYTES && out > compressed.bytes * limits.maxCompressionRatio) {
        throw new DatasetError(
          "decompression_bomb",
          `decompresses more than ${limits.maxCompressionRatio}× (a decompression bomb?)`,
          { file },
        );
      }
      yield chunk;
    }
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError("bad_format", `gzip data is corrupt: ${(err as Error).message}`, { file });
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} B`;
}
