import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { idToTokenOf } from "@distillery/core";
import { EngineError } from "../engine-error.ts";
import { loadTokenizer } from "../tokenizer/engine-tokenizer.ts";
import type { EndpointTeacher } from "./distillation-endpoint.ts";
import {
  createArtifactRows,
  prepareTeacherLogitsData,
  rowSpan,
  safetensorsSize,
  type TeacherLogitsEstimate,
  type TeacherLogitsManifest,
  type TeacherLogitsOptions,
  toF16,
} from "./teacher-logits.ts";
import type { TokenizedExample } from "./training-data.ts";

/**
 * The "teacher logits" artifact computed by a teacher endpoint (vLLM's `prompt_logprobs`)
 * instead of a local teacher: the same file, laid out the same way, so a run cannot tell them
 * apart. The rows are tokenized with `tokenizerDir`'s tokenizer (the student family's, which
 * the endpoint was checked to share) and sent as token ids, `batchSize` sequences a request,
 * `concurrency` requests in flight. Each finished batch is appended to a spool file beside the
 * output, so a job stopped mid-way (cancel, a worker that died) resumes where it was.
 */
export interface EndpointTeacherLogitsOptions extends TeacherLogitsOptions {
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (rowsDone: number, rows: number) => void;
  /** where finished rows are kept between attempts (default `<outDir>.spool.ndjson`) */
  spoolPath?: string;
}

interface SpoolLine {
  /** the row (the version's row index) */
  r: number;
  first: number;
  ids: number[];
  /** f16 bits */
  lp: number[];
}

function readSpool(path: string): Map<number, SpoolLine> {
  const done = new Map<number, SpoolLine>();
  if (!existsSync(path)) return done;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const s = JSON.parse(line) as SpoolLine;
      done.set(s.r, s);
    } catch {
      // a line torn by a kill mid-write: that row is asked again
    }
  }
  return done;
}

function vocabSizeOf(dir: string): number {
  try {
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { vocab_size?: number };
    if (typeof config.vocab_size === "number") return config.vocab_size;
  } catch {}
  return idToTokenOf(loadTokenizer(dir).json).length;
}

/** one example's stored positions from the endpoint's scores of its sequence */
function rowOf(
  e: TokenizedExample,
  scores: { top: [number, number][] }[],
  k: number,
  completionOnly: boolean,
  name: string,
): SpoolLine {
  const { first, n } = rowSpan(e, completionOnly);
  const ids: number[] = [];
  const lp: number[] = [];
  for (let p = 0; p < n; p++) {
    // stored position t predicts ids[t + 1]: the endpoint's score of position t + 1, i.e. scores[t]
    const pos = scores[first + p];
    if (!pos || pos.top.length < k)
      throw new EngineError(
        "teacher_failed",
        `teacher "${name}" returned ${pos?.top.length ?? 0} alternatives at position ${first + p + 1} of row ${e.source}, ${k} asked`,
        { field: "k" },
      );
    for (let j = 0; j < k; j++) {
      const [id, logprob] = pos.top[j] as [number, number];
      ids.push(id);
      lp.push(toF16(logprob));
    }
  }
  return { r: e.source as number, first, ids, lp };
}

/** Size (exact) and time (one timed request of the first batch, extrapolated) before computing. */
export async function estimateTeacherLogitsFromEndpoint(
  teacher: EndpointTeacher,
  tokenizerDir: string,
  dataPath: string,
  opts: EndpointTeacherLogitsOptions,
): Promise<TeacherLogitsEstimate> {
  const k = opts.k ?? 20;
  const completionOnly = opts.completionOnly ?? true;
  const data = prepareTeacherLogitsData(
    dataPath,
    loadTokenizer(tokenizerDir),
    opts.maxSeqLength,
    completionOnly,
  );
  const { total } = safetensorsSize(data.rows, data.positions, k);
  const probe = data.examples.slice(0, opts.batchSize ?? 16);
  const t0 = performance.now();
  await teacher.score(
    probe.map((e) => e.ids),
    opts.signal,
  );
  const seconds = (performance.now() - t0) / 1000;
  const probePositions = probe.reduce((s, e) => s + e.ids.length - 1, 0);
  const allPositions = data.examples.reduce((s, e) => s + e.ids.length - 1, 0);
  const rate = probePositions / Math.max(seconds, 1e-9);
  // requests in flight overlap: the estimate assumes the endpoint serves them side by side
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  return {
    rows: data.rows,
    positions: data.positions,
    bytes: total,
    seconds: allPositions / rate / concurrency,
    positionsPerSecond: rate * concurrency,
  };
}

/** Computes the artifact into `outDir` from the endpoint (written beside and renamed: whole or absent). */
export async function computeTeacherLogitsFromEndpoint(
  teacher: EndpointTeacher,
  tokenizerDir: string,
  dataPath: string,
  outDir: string,
  opts: EndpointTeacherLogitsOptions,
): Promise<TeacherLogitsManifest> {
  const t0 = performance.now();
  const k = opts.k ?? 20;
  if (k > teacher.k)
    throw new EngineError("config_invalid", `top-${k} asked of an endpoint teacher set up for ${teacher.k}`, {
      field: "k",
    });
  const completionOnly = opts.completionOnly ?? true;
  const tokenizer = loadTokenizer(tokenizerDir);
  const data = prepareTeacherLogitsData(dataPath, tokenizer, opts.maxSeqLength, completionOnly);
  const spoolPath = opts.spoolPath ?? `${outDir}.spool.ndjson`;
  mkdirSync(join(outDir, ".."), { recursive: true });
  const done = readSpool(spoolPath);
  const todo = data.examples.filter((e) => !done.has(e.source as number));
  const n = data.examples.length;
  let rowsDone = n - todo.length;
  opts.onProgress?.(rowsDone, n);
  const bs = opts.batchSize ?? 16;
  const batches: TokenizedExample[][] = [];
  for (let i = 0; i < todo.length; i += bs) batches.push(todo.slice(i, i + bs));
  let next = 0;
  // the first failure stops the other requests in flight
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([stop.signal, opts.signal]) : stop.signal;
  const worker = async () => {
    while (next < batches.length) {
      if (signal.aborted) throw new EngineError("cancelled", "cancelled");
      const batch = batches[next++] as TokenizedExample[];
      const scores = await teacher
        .score(
          batch.map((e) => e.ids),
          signal,
        )
        .catch((e) => {
          stop.abort();
          throw e;
        });
      const lines = batch.map((e, j) => rowOf(e, scores[j] ?? [], k, completionOnly, teacher.endpoint.name));
      appendFileSync(spoolPath, lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
      for (const l of lines) done.set(l.r, l);
      rowsDone += batch.length;
      opts.onProgress?.(rowsDone, n);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, batches.length)) }, worker),
  );

  const artifact = createArtifactRows(data, k);
  for (const e of data.examples) {
    const r = e.source as number;
    const line = done.get(r) as SpoolLine;
    if (line.ids.length !== ((data.offsets[r + 1] as number) - (data.offsets[r] as number)) * k)
      throw new EngineError(
        "data_invalid",
        `the spool ${spoolPath} holds another layout for row ${r} (other data or k): delete it and compute again`,
        { field: "k" },
      );
    artifact.setRow(r, line.first, line.ids, line.lp);
  }
  const manifest = artifact.write(outDir, tokenizer, {
    teacher: opts.teacherName ?? teacher.endpoint.name,
    vocabSize: vocabSizeOf(tokenizerDir),
    maxSeqLength: opts.maxSeqLength,
    completionOnly,
    seconds: (performance.now() - t0) / 1000,
  });
  rmSync(spoolPath, { force: true });
  return manifest;
}
