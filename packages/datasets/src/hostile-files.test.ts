import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetError } from "./dataset-error.ts";
import { createFsRowSink } from "./fs-row-sink.ts";
import { ingestDataset } from "./ingest-dataset.ts";
import { previewSource } from "./preview-source.ts";
import { sanitizeFileName } from "./sanitize-file-name.ts";
import { hostileFiles } from "./test-fixtures/hostile-files.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hostile-files-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * The engine's half of the hostile-file drill: each file is refused by the preview (the upload
 * route's 422) or, under policy "reject", by the import, with a message naming the problem,
 * and an import that fails leaves nothing in its version folder.
 */
describe("hostile files", () => {
  const files = hostileFiles();
  it("has at least 60 of them", () => {
    expect(files.length).toBeGreaterThanOrEqual(60);
  });
  it.each(files.map((f, i) => [f.name, f, i] as const))("%s", async (_name, f, i) => {
    if (f.body.length === 0) return; // refused by the route before the engine sees it
    const path = join(dir, `f${i}`);
    await writeFile(path, f.body);
    const fileName = sanitizeFileName(f.fileName);
    const out = join(dir, `v${i}`);
    let error: unknown;
    try {
      const preview = await previewSource({ path, fileName });
      await ingestDataset({
        source: { path, fileName },
        sink: createFsRowSink({ dir: out }),
        policy: "reject",
        ...(preview.detected ? { mapping: preview.detected.mapping } : {}),
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toMatch(f.expect);
    expect((error as Error).message).not.toMatch(/\/(tmp|work|home|root)\//);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });
});
