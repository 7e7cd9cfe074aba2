import { join } from "node:path";
import type { CanonicalExample } from "@distillery/core";
import { createFsRowSink } from "@distillery/datasets";
import type { DemoProblemSets } from "./addition-problems.ts";
import { toDirectExample, toTraceExample, toWorkedExample } from "./demo-examples.ts";

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

/** Rows of the base student's version: every other problem asked directly, the rest worked. */
export function buildDirectRows(sets: DemoProblemSets): CanonicalExample[] {
  return sets.train.map((p, i) => (i % 2 === 0 ? toDirectExample(p) : toWorkedExample(p)));
}

async function writeVersion(dir: string, id: string, rows: readonly CanonicalExample[]): Promise<DemoDatasetVersion> {
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
export async function writeDemoDatasets(dir: string, sets: DemoProblemSets, ids: { direct: string; traces: string; heldout: string }): Promise<DemoDatasets> {
  return {
    direct: await writeVersion(dir, ids.direct, buildDirectRows(sets)),
    traces: await writeVersion(dir, ids.traces, sets.train.map(toTraceExample)),
    heldout: await writeVersion(dir, ids.heldout, sets.heldout.map(toTraceExample)),
  };
}
