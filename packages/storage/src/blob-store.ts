import type { Readable } from "node:stream";

/**
 * Where datasets, checkpoints and artifacts live. Keys are slash-separated paths such as
 * `datasets/<id>/<version>/rows.jsonl.gz`. Writes are all-or-nothing: a reader never sees a
 * half-written blob (temp file + rename locally; a single PUT or a completed multipart upload
 * on S3).
 */
export interface BlobStore {
  readonly kind: "fs" | "s3";
  /** Writes a blob from a local file. */
  putFile(key: string, path: string): Promise<{ bytes: number }>;
  /** Writes a blob from bytes or a stream. */
  put(key: string, body: Buffer | string | Readable): Promise<{ bytes: number }>;
  /** Streams a blob (from byte `start`, when given); rejects with BlobNotFoundError when it is missing. */
  get(key: string, options?: { start?: number }): Promise<Readable>;
  /** Copies a blob to a local file (written to a temp name, then renamed). */
  getToFile(key: string, path: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Keys under a prefix ("" for all), sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  /** A local path for the key when the store is a folder (engines read it in place); else undefined. */
  localPath(key: string): string | undefined;
}

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`blob ${key} does not exist`);
    this.name = "BlobNotFoundError";
  }
}

export class InvalidBlobKeyError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid blob key ${JSON.stringify(key)}: ${reason}`);
    this.name = "InvalidBlobKeyError";
  }
}

/** Keys are relative, slash-separated, without `..`, empty segments or control characters. */
export function assertValidKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new InvalidBlobKeyError(key, "must be 1–1024 characters");
  if (key.startsWith("/")) throw new InvalidBlobKeyError(key, "must be relative");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(key))
    throw new InvalidBlobKeyError(key, "contains a control character or backslash");
  for (const segment of key.split("/")) {
    if (segment === "" || segment === "." || segment === "..")
      throw new InvalidBlobKeyError(key, `has an empty, "." or ".." segment`);
  }
}
