import { join } from "node:path";
import type { CanonicalExample } from "@distillery/core";
import { createFsRowSink } from "@distillery/datasets";
import type { DemoProblemSets } from "./addition-problems.ts";
import { toColumnFactExample, toDirectExample, toTraceExample, toWorkedExample } from "./demo-examples.ts";

export interface DemoDatasetVersion {
  /** version id the run configs refer to */
  id: string;
  /** the version's folder; `location` is its rows file (gzipped JSONL of CanonicalExample) */
  dir: string;
  location: string;
  rows: number;
  bytes: number;
}

export interface DemoDatasets {
  /** the base student's training data: direct answers, plus column work when asked for it */
  direct: DemoDatasetVersion;
  /** the teacher's R1-style traces on the same train problems */
  traces: DemoDatasetVersion;
  /** held-out problems (teacher rows with references): eval tasks and eval loss */
  heldout: DemoDatasetVersion;
}

/** How often each of the 200 addition-table rows appears in the base student's version. */
export const COLUMN_FACT_REPEATS = 5;

/**
 * One train problem in this many is asked plainly (answered directly); the rest are worked on
 * request. Enough to fix the direct-answer habit and format; with every other problem direct,
 * the 3-layer base learned 2-digit sums outright (0.84 held-out), leaving nothing to distill.
 */
export const DIRECT_EVERY = 10;

/**
 * Rows of the base student's version: one problem in DIRECT_EVERY asked directly, the rest
 * worked column by column on request, plus the addition table (digit + digit + carry). It answers
 * "What is a + b?" without reasoning; the knowledge it needs to reason is there.
 */
export function buildDirectRows(sets: DemoProblemSets): CanonicalExample[] {
  const rows = sets.train.map((p, i) => (i % DIRECT_EVERY === 0 ? toDirectExample(p) : toWorkedExample(p)));
  for (let r = 0; r < COLUMN_FACT_REPEATS; r++) {
    for (let x = 0; x < 10; x++)
      for (let y = 0; y < 10; y++) for (let c = 0; c < 2; c++) rows.push(toColumnFactExample(x, y, c));
  }
  return rows;
}

async function writeVersion(
  dir: string,
  id: string,
  rows: readonly CanonicalExample[],
): Promise<DemoDatasetVersion> {
  const versionDir = join(dir, id);
  const sink = createFsRowSink({ dir: versionDir });
  try {
    for (let i = 0; i < rows.length; i += 1000) await sink.write(rows.slice(i, i + 1000));
    const r = await sink.commit();
    return { id, dir: versionDir, location: r.location, rows: r.rows, bytes: r.bytes };
  } catch (e) {
    await sink.abort(e);
    throw e;
  }
}

/** Writes the three versions under `dir/<id>/rows.jsonl.gz` (immutable: an existing one fails). */
export async function writeDemoDatasets(
  dir: string,
  sets: DemoProblemSets,
  ids: { direct: string; traces: string; heldout: string },
): Promise<DemoDatasets> {
  return {
    direct: await writeVersion(dir, ids.direct, buildDirectRows(sets)),
    traces: await writeVersion(dir, ids.traces, sets.train.map(toTraceExample)),
    heldout: await writeVersion(dir, ids.heldout, sets.heldout.map(toTraceExample)),
  };
}
