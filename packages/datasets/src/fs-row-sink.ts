import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { access, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip, type ZlibOptions } from "node:zlib";
import type { CanonicalExample } from "@distillery/core";
import { DatasetError } from "./dataset-error.ts";
import type { RowSink, RowSinkResult } from "./row-sink.ts";

export const ROWS_FILE_NAME = "rows.jsonl.gz";

export interface FsRowSinkOptions {
  /** the version's folder; created if missing */
  dir: string;
  fileName?: string;
  /** gzip level: 1 keeps ingest fast; rows are written once and read a few times */
  level?: number;
}

/**
 * Writes gzipped JSONL of CanonicalExample to a hidden temp file beside the target and renames
 * it into place on commit (atomic on one filesystem), so a reader never sees half a version.
 * An existing target is never overwritten: versions are immutable.
 */
export function createFsRowSink(options: FsRowSinkOptions): RowSink {
  const fileName = options.fileName ?? ROWS_FILE_NAME;
  const target = join(options.dir, fileName);
  const temp = join(options.dir, `.${fileName}.${randomBytes(6).toString("hex")}.partial`);
  // a deep write buffer lets zlib (on the thread pool) compress while the caller parses more rows
  const gzip = createGzip({ level: options.level ?? 1, writableHighWaterMark: 2 << 20 } as ZlibOptions);
  let rows = 0;
  let state: "open" | "committed" | "aborted" = "open";
  let done: Promise<void> | undefined;
  let file: ReturnType<typeof createWriteStream> | undefined;

  async function open(): Promise<void> {
    if (done) return;
    await mkdir(options.dir, { recursive: true });
    file = createWriteStream(temp, { flags: "wx" });
    done = pipeline(gzip, file);
    done.catch(() => {}); // surfaced by commit()
  }

  return {
    async write(batch) {
      if (state !== "open") throw new DatasetError("sink", `write after ${state}`);
      await open();
      if (batch.length === 0) return;
      let text = "";
      for (const row of batch) text += `${JSON.stringify(row satisfies CanonicalExample)}\n`;
      rows += batch.length;
      // once() rejects on "error", so a failed disk write cannot leave us waiting for a drain
      if (!gzip.write(text)) await once(gzip, "drain");
    },
    async commit(): Promise<RowSinkResult> {
      if (state !== "open") throw new DatasetError("sink", `commit after ${state}`);
      await open();
      gzip.end();
      try {
        await done;
        const exists = await access(target).then(
          () => true,
          () => false,
        );
        if (exists) throw new DatasetError("sink", `${target} already exists; versions are immutable`);
        await rename(temp, target);
      } catch (err) {
        state = "aborted";
        await rm(temp, { force: true });
        throw err;
      }
      state = "committed";
      return { rows, bytes: file?.bytesWritten ?? 0, location: target };
    },
    async abort() {
      if (state !== "open") return;
      state = "aborted";
      gzip.destroy();
      file?.destroy();
      await done?.catch(() => {});
      await rm(temp, { force: true });
    },
  };
}
