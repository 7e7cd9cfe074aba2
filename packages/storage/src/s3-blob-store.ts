import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { assertValidKey, BlobNotFoundError, type BlobStore } from "./blob-store.ts";

export interface S3Settings {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** path-style URLs (MinIO and most self-hosted stores need them) */
  forcePathStyle: boolean;
  /** key prefix inside the bucket */
  prefix?: string;
}

const isNotFound = (e: unknown) => {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === "NoSuchKey" || err.name === "NotFound" || err.$metadata?.httpStatusCode === 404;
};

/** Blobs in any S3-compatible store; large bodies go up as multipart uploads. */
export function createS3BlobStore(settings: S3Settings): BlobStore {
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
  });
  const Bucket = settings.bucket;
  const prefix = settings.prefix ? `${settings.prefix.replace(/\/+$/, "")}/` : "";
  const keyOf = (key: string) => {
    assertValidKey(key);
    return prefix + key;
  };
  const upload = async (key: string, Body: Readable | Buffer) => {
    await new Upload({
      client,
      params: { Bucket, Key: keyOf(key), Body },
      queueSize: 2,
      partSize: 8 << 20,
    }).done();
    const head = await client.send(new HeadObjectCommand({ Bucket, Key: keyOf(key) }));
    return { bytes: head.ContentLength ?? 0 };
  };
  const getBody = async (key: string, start?: number): Promise<Readable> => {
    try {
      const res = await client.send(
        new GetObjectCommand({ Bucket, Key: keyOf(key), ...(start ? { Range: `bytes=${start}-` } : {}) }),
      );
      return res.Body as Readable;
    } catch (e) {
      if (isNotFound(e)) throw new BlobNotFoundError(key);
      throw e;
    }
  };
  return {
    kind: "s3",
    async putFile(key, path) {
      const { size } = await stat(path);
      return upload(
        key,
        size < 8 << 20
          ? Buffer.from(await import("node:fs/promises").then((f) => f.readFile(path)))
          : createReadStream(path),
      );
    },
    async put(key, body) {
      return upload(key, typeof body === "string" ? Buffer.from(body) : body);
    },
    get: (key, options) => getBody(key, options?.start),
    async getToFile(key, path) {
      const body = await getBody(key);
      await mkdir(dirname(path), { recursive: true });
      const temp = `${path}.${process.pid}.partial`;
      try {
        await pipeline(body, createWriteStream(temp));
        await rename(temp, path);
      } catch (e) {
        await rm(temp, { force: true });
        throw e;
      }
    },
    async exists(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key: keyOf(key) }));
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
    },
    async list(p) {
      const keys: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const res = await client.send(
          new ListObjectsV2Command({ Bucket, Prefix: prefix + p, ContinuationToken }),
        );
        for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key.slice(prefix.length));
        ContinuationToken = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return keys.sort();
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(key) }));
    },
    localPath() {
      return undefined;
    },
  };
}
