import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { access, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import type { CanonicalExample } from "@distillery/core";
import { DatasetError } from "./dataset-error.ts";
import type { RowBlock, RowSink, RowSinkResult } from "./row-sink.ts";

export const ROWS_FILE_NAME = "rows.jsonl.gz";

/** Uncompressed bytes per gzip member: the granularity a reader can seek to. */
export const ROW_BLOCK_BYTES = 4 * 1024 * 1024;

const gzipAsync = promisify(gzip);

export interface FsRowSinkOptions {
  /** the version's folder; created if missing */
  dir: string;
  fileName?: string;
  /** gzip level: 1 keeps ingest fast; rows are written once and read a few times */
  level?: number;
  /** rows are cut into gzip members of about this many uncompressed bytes (see `RowBlock`) */
  blockBytes?: number;
}

/**
 * Writes gzipped JSONL of CanonicalExample to a hidden temp file beside the target and renames
 * it into place on commit (atomic on one filesystem), so a reader never sees half a version.
 * An existing target is never overwritten: versions are immutable.
 *
 * The file is a series of gzip members of ~4 MiB of rows each (any gzip reader reads them as
 * one stream); `commit()` returns where each member starts (`blocks`), so the row browser can
 * start reading at a row without decompressing everything before it. Members are compressed
 * on the libuv thread pool, two at most in flight, while the caller produces the next rows.
 */
export function createFsRowSink(options: FsRowSinkOptions): RowSink {
  const fileName = options.fileName ?? ROWS_FILE_NAME;
  const blockBytes = options.blockBytes ?? ROW_BLOCK_BYTES;
  // a run-time data folder: bundlers tracing the web app must not pull the project in for it
  const target = join(/*turbopackIgnore: true*/ options.dir, fileName);
  const temp = join(
    /*turbopackIgnore: true*/ options.dir,
    `.${fileName}.${randomBytes(6).toString("hex")}.partial`,
  );
  let rows = 0;
  let state: "open" | "committed" | "aborted" = "open";
  let file: ReturnType<typeof createWriteStream> | undefined;
  let pending: string[] = [];
  let pendingBytes = 0;
  let blockStartRow = 0;
  let written = 0;
  const blocks: RowBlock[] = [];
  /** members compressing or being written, in file order */
  const inFlight: Promise<void>[] = [];
  let tail: Promise<void> = Promise.resolve();
  let failure: unknown;

  async function open(): Promise<ReturnType<typeof createWriteStream>> {
    if (file) return file;
    await mkdir(options.dir, { recursive: true });
    file = createWriteStream(temp, { flags: "wx" });
    file.on("error", (e) => {
      failure ??= e;
    });
    return file;
  }

  /** Compresses the pending rows as one member and appends it after the members before it. */
  function cutBlock(out: ReturnType<typeof createWriteStream>) {
    const text = pending.join("");
    const row = blockStartRow;
    pending = [];
    pendingBytes = 0;
    blockStartRow = rows;
    const compressed = gzipAsync(Buffer.from(text), { level: options.level ?? 1 });
    compressed.catch(() => {}); // surfaced through `tail`
    const done = tail.then(async () => {
      const member = await compressed;
      blocks.push({ row, offset: written });
      written += member.length;
      await new Promise<void>((resolve, reject) => out.write(member, (e) => (e ? reject(e) : resolve())));
    });
    tail = done.catch((e) => {
      failure ??= e;
    });
    inFlight.push(tail);
  }

  const check = () => {
    if (failure) throw failure;
  };

  return {
    async write(batch) {
      if (state !== "open") throw new DatasetError("sink", `write after ${state}`);
      const out = await open();
      check();
      if (batch.length === 0) return;
      let text = "";
      for (const row of batch) text += `${JSON.stringify(row satisfies CanonicalExample)}\n`;
      rows += batch.length;
      pending.push(text);
      pendingBytes += text.length;
      if (pendingBytes >= blockBytes) cutBlock(out);
      while (inFlight.length > 2) await inFlight.shift();
      check();
    },
    async commit(): Promise<RowSinkResult> {
      if (state !== "open") throw new DatasetError("sink", `commit after ${state}`);
      try {
        const out = await open();
        // an empty version is still a valid gzip file (one empty member)
        if (pendingBytes > 0 || blocks.length + inFlight.length === 0) cutBlock(out);
        await Promise.all(inFlight.splice(0));
        check();
        if (!out.closed) {
          out.end();
          await once(out, "close");
        }
        check();
        const exists = await access(target).then(
          () => true,
          () => false,
        );
        if (exists) throw new DatasetError("sink", `${target} already exists; versions are immutable`);
        await rename(temp, target);
      } catch (err) {
        state = "aborted";
        file?.destroy();
        await rm(temp, { force: true });
        throw err;
      }
      state = "committed";
      return { rows, bytes: written, location: target, blocks };
    },
    async abort() {
      if (state !== "open") return;
      state = "aborted";
      await Promise.all(inFlight.splice(0));
      if (file && !file.closed) {
        file.destroy();
        await once(file, "close").catch(() => {});
      }
      await rm(temp, { force: true });
    },
  };
}
