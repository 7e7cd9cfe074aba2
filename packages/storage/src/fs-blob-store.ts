import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { copyFile, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { assertValidKey, BlobNotFoundError, type BlobStore } from "./blob-store.ts";

/** Blobs as files under `root` (the embedded default: `.data/blobs`). */
export function createFsBlobStore(root: string): BlobStore {
  const pathOf = (key: string) => {
    assertValidKey(key);
    return join(root, ...key.split("/"));
  };
  const tempBeside = (path: string) => join(dirname(path), `.${randomBytes(6).toString("hex")}.partial`);

  async function writeAtomically(path: string, write: (temp: string) => Promise<void>): Promise<number> {
    await mkdir(dirname(path), { recursive: true });
    const temp = tempBeside(path);
    try {
      await write(temp);
      await rename(temp, path);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
    return (await stat(path)).size;
  }

  return {
    kind: "fs",
    async putFile(key, source) {
      const bytes = await writeAtomically(pathOf(key), (temp) => copyFile(source, temp));
      return { bytes };
    },
    async put(key, body) {
      const stream =
        typeof body === "string" || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
      const bytes = await writeAtomically(pathOf(key), (temp) =>
        pipeline(stream, createWriteStream(temp, { flags: "wx" })),
      );
      return { bytes };
    },
    async get(key, options) {
      const path = pathOf(key);
      if (!existsSync(path)) throw new BlobNotFoundError(key);
      return createReadStream(path, options?.start ? { start: options.start } : {});
    },
    async getToFile(key, path) {
      const source = pathOf(key);
      if (!existsSync(source)) throw new BlobNotFoundError(key);
      await writeAtomically(path, (temp) => copyFile(source, temp));
    },
    async exists(key) {
      return existsSync(pathOf(key));
    },
    async list(prefix) {
      const out: string[] = [];
      const walk = async (dir: string): Promise<void> => {
        const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
        for (const e of entries) {
          if (e.name.startsWith(".")) continue; // temp files of writes in flight
          const full = join(dir, e.name);
          if (e.isDirectory()) await walk(full);
          else out.push(relative(root, full).split(sep).join("/"));
        }
      };
      await walk(root);
      return out.filter((k) => k.startsWith(prefix)).sort();
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    localPath(key) {
      return pathOf(key);
    },
  };
}
