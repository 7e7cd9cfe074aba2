import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeTokenizerDifference, firstTokenizerDifference } from "@distillery/core";
import { EngineError } from "../engine-error.ts";
import { loadModelDir } from "../io/hf-model-dir.ts";
import { packWeights } from "../kernels/matmul-wasm.ts";
import { runInArena } from "../kernels/wasm-memory.ts";
import { forwardTrain } from "../model/llama-forward.ts";
import { type LlamaModel, packableWeights } from "../model/llama-model.ts";
import type { TeacherDistribution } from "../model/ops/distill-loss.ts";
import { type EngineTokenizer, loadTokenizer } from "../tokenizer/engine-tokenizer.ts";
import { collateBatch, readExamplesJsonl, type TokenizedExample, tokenizeExamples } from "./training-data.ts";

/**
 * Offline "teacher logits": the teacher's top-k log-probabilities (T = 1) of every target
 * position of a dataset version, computed once and read by logit-mode runs instead of running
 * the teacher. A folder of three files:
 *
 * - `teacher_logits.safetensors`: `ids` I32 [positions, k] and `logprobs` F16 [positions, k]
 *   (each position's kept tokens, most likely first), `row_offsets` I32 [rows + 1] (row r's
 *   positions are row_offsets[r] .. row_offsets[r+1]) and `row_first` I32 [rows] (the position
 *   index, in the row's ids, of its first stored position); rows in the version's row order;
 * - `manifest.json` (TeacherLogitsManifest);
 * - `tokenizer.json`: the tokenizer the ids were made with (a run refuses another one, naming the
 *   first differing token).
 *
 * Position t of a row predicts ids[t + 1]. Completion-only artifacts store the positions that
 * predict a completion token; others every position.
 */
export const TEACHER_LOGITS_FORMAT = "distillery.teacher-logits/1";
export const TEACHER_LOGITS_FILE = "teacher_logits.safetensors";

export interface TeacherLogitsManifest {
  format: typeof TEACHER_LOGITS_FORMAT;
  /** the teacher as the caller names it (catalog name or folder) */
  teacher: string;
  k: number;
  /** the tokenizer (tokenizer.json beside the manifest), by its sha256 and size */
  tokenizer: { sha256: string; vocabSize: number };
  /** sha256 of the examples file (rendered JSONL) the logits were computed on */
  dataSha256: string;
  maxSeqLength: number;
  completionOnly: boolean;
  rows: number;
  positions: number;
  bytes: number;
  seconds: number;
}

export interface TeacherLogitsEstimate {
  rows: number;
  positions: number;
  /** size of teacher_logits.safetensors (exact: the layout is fixed by the counts) */
  bytes: number;
  /** extrapolated from a timed forward of the teacher on the first batch */
  seconds: number;
  /** the measured rate the time comes from */
  positionsPerSecond: number;
}

export const sha256 = (buf: Uint8Array | string) => createHash("sha256").update(buf).digest("hex");

/** the positions a row stores: [first, last) of its ids' next-token predictions */
export function rowSpan(e: TokenizedExample, completionOnly: boolean): { first: number; n: number } {
  const first = completionOnly ? Math.max(0, e.completionStart - 1) : 0;
  return { first, n: Math.max(0, e.ids.length - 1 - first) };
}

export function safetensorsSize(
  rows: number,
  positions: number,
  k: number,
): { header: Buffer; total: number } {
  const header = headerOf(rows, positions, k);
  return { header, total: header.length + positions * k * 6 + (rows + 1) * 4 + rows * 4 };
}

function headerOf(rows: number, positions: number, k: number): Buffer {
  const idsBytes = positions * k * 4;
  const lpBytes = positions * k * 2;
  const offBytes = (rows + 1) * 4;
  const firstBytes = rows * 4;
  let o = 0;
  const entry = (dtype: string, shape: number[], bytes: number) => {
    const e = { dtype, shape, data_offsets: [o, o + bytes] };
    o += bytes;
    return e;
  };
  const json = JSON.stringify({
    ids: entry("I32", [positions, k], idsBytes),
    row_offsets: entry("I32", [rows + 1], offBytes),
    row_first: entry("I32", [rows], firstBytes),
    logprobs: entry("F16", [positions, k], lpBytes),
  });
  // the header is padded with spaces to a multiple of 8 bytes, as the safetensors library writes it
  const padded = json + " ".repeat((8 - ((json.length + 8) % 8)) % 8);
  const buf = Buffer.alloc(8 + padded.length);
  buf.writeBigUInt64LE(BigInt(padded.length), 0);
  buf.write(padded, 8, "utf8");
  return buf;
}

/** float → IEEE half (round to nearest even; overflow to ±inf) */
export function toF16(v: number): number {
  const f32 = new Float32Array([v]);
  const x = new Uint32Array(f32.buffer)[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  e = h >>> 10;
  return sign | h;
}

export function fromF16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * The k largest entries of one row (ties: the lower id first, as a stable sort by value), with
 * their log-probabilities; O(vocab) for a small k. Returns the row's log-sum-exp.
 */
export function topKRow(
  logits: ArrayLike<number>,
  o: number,
  vocab: number,
  k: number,
  ids: Int32Array,
  logprobs: Float32Array | Float64Array,
  at: number,
): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < vocab; j++) max = Math.max(max, logits[o + j] as number);
  let sum = 0;
  for (let j = 0; j < vocab; j++) sum += Math.exp((logits[o + j] as number) - max);
  const lse = max + Math.log(sum);
  const kk = Math.min(k, vocab);
  const topV = new Float64Array(kk).fill(Number.NEGATIVE_INFINITY);
  const topI = new Int32Array(kk).fill(-1);
  let filled = 0;
  for (let j = 0; j < vocab; j++) {
    const v = logits[o + j] as number;
    if (filled === kk && v <= (topV[kk - 1] as number)) continue;
    let p = filled < kk ? filled++ : kk - 1;
    while (p > 0 && (topV[p - 1] as number) < v) {
      topV[p] = topV[p - 1] as number;
      topI[p] = topI[p - 1] as number;
      p--;
    }
    topV[p] = v;
    topI[p] = j;
  }
  for (let b = 0; b < kk; b++) {
    ids[at + b] = topI[b] as number;
    logprobs[at + b] = (topV[b] as number) - lse;
  }
  return lse;
}

export interface PreparedTeacherLogitsData {
  /** the examples of two or more tokens (each with its row as `source`) */
  examples: TokenizedExample[];
  /** all rows of the file, shorter ones included (they store no position) */
  rows: number;
  /** row r's positions start at offsets[r] (rows + 1 entries) */
  offsets: Int32Array;
  dataSha256: string;
  positions: number;
}

export function prepareTeacherLogitsData(
  dataPath: string,
  tokenizer: EngineTokenizer,
  maxSeqLength: number,
  completionOnly: boolean,
): PreparedTeacherLogitsData {
  const raw = readFileSync(dataPath);
  const all = readExamplesJsonl(dataPath, "data.datasetVersionId");
  const examples = tokenizeExamples(all, tokenizer, maxSeqLength);
  const counts = new Int32Array(all.length);
  for (const e of examples) counts[e.source as number] = rowSpan(e, completionOnly).n;
  const offsets = new Int32Array(all.length + 1);
  for (let r = 0; r < all.length; r++) offsets[r + 1] = (offsets[r] as number) + (counts[r] as number);
  return {
    examples,
    rows: all.length,
    offsets,
    dataSha256: sha256(raw),
    positions: offsets[all.length] as number,
  };
}

export interface TeacherLogitsOptions {
  /** the teacher's name for the manifest (default: its folder) */
  teacherName?: string;
  k?: number;
  maxSeqLength: number;
  completionOnly?: boolean;
  batchSize?: number;
}

function teacherRows(
  teacher: LlamaModel,
  batch: TokenizedExample[],
  completionOnly: boolean,
  k: number,
): { ids: Int32Array; logprobs: Float32Array }[] {
  const b = collateBatch(batch, 0, false);
  const V = teacher.config.vocabSize;
  return runInArena(() => {
    const logits = forwardTrain(teacher, b.ids, b.batch, b.seq, null, null).logits;
    return batch.map((e, r) => {
      const { first, n } = rowSpan(e, completionOnly);
      const ids = new Int32Array(n * k);
      const logprobs = new Float32Array(n * k);
      for (let p = 0; p < n; p++) topKRow(logits, (r * b.seq + first + p) * V, V, k, ids, logprobs, p * k);
      return { ids, logprobs };
    });
  });
}

/**
 * Size and time of an artifact before computing it: the data is tokenized (the position count,
 * hence the size, is exact) and the teacher runs one batch, timed, to extrapolate the time.
 */
export function estimateTeacherLogits(
  teacherDir: string,
  dataPath: string,
  opts: TeacherLogitsOptions,
): TeacherLogitsEstimate {
  const k = opts.k ?? 20;
  const completionOnly = opts.completionOnly ?? true;
  const data = prepareTeacherLogitsData(
    dataPath,
    loadTokenizer(teacherDir),
    opts.maxSeqLength,
    completionOnly,
  );
  const { total } = safetensorsSize(data.rows, data.positions, k);
  const teacher = loadModelDir(teacherDir);
  const probe = data.examples.slice(0, opts.batchSize ?? 8);
  const release = packWeights(packableWeights(teacher, false), true);
  let seconds: number;
  let probePositions = 0;
  try {
    const t0 = performance.now();
    teacherRows(teacher, probe, completionOnly, k);
    seconds = (performance.now() - t0) / 1000;
    // a forward costs per input position, stored or not
    for (const e of probe) probePositions += e.ids.length - 1;
  } finally {
    release();
  }
  let allPositions = 0;
  for (const e of data.examples) allPositions += e.ids.length - 1;
  const rate = probePositions / Math.max(seconds, 1e-9);
  return {
    rows: data.rows,
    positions: data.positions,
    bytes: total,
    seconds: allPositions / rate,
    positionsPerSecond: rate,
  };
}

/** Computes the artifact into `outDir` (written beside and renamed, so it is whole or absent). */
export function computeTeacherLogits(
  teacherDir: string,
  dataPath: string,
  outDir: string,
  opts: TeacherLogitsOptions & { onProgress?: (rowsDone: number, rows: number) => void },
): TeacherLogitsManifest {
  const t0 = performance.now();
  const k = opts.k ?? 20;
  const completionOnly = opts.completionOnly ?? true;
  const tokenizer = loadTokenizer(teacherDir);
  const data = prepareTeacherLogitsData(dataPath, tokenizer, opts.maxSeqLength, completionOnly);
  const artifact = createArtifactRows(data, k);
  const teacher = loadModelDir(teacherDir);
  const release = packWeights(packableWeights(teacher, false), true);
  const bs = opts.batchSize ?? 8;
  const n = data.examples.length;
  try {
    for (let i0 = 0; i0 < n; i0 += bs) {
      const batch = data.examples.slice(i0, i0 + bs);
      const out = teacherRows(teacher, batch, completionOnly, k);
      out.forEach((o, j) => {
        const e = batch[j] as TokenizedExample;
        artifact.setRow(
          e.source as number,
          rowSpan(e, completionOnly).first,
          o.ids,
          Array.from(o.logprobs, toF16),
        );
      });
      opts.onProgress?.(Math.min(n, i0 + bs), n);
    }
  } finally {
    release();
  }
  return artifact.write(outDir, tokenizer, {
    teacher: opts.teacherName ?? teacherDir,
    vocabSize: teacher.config.vocabSize,
    maxSeqLength: opts.maxSeqLength,
    completionOnly,
    seconds: (performance.now() - t0) / 1000,
  });
}

/**
 * The artifact being filled, laid out as `teacher_logits.safetensors` is (header, ids,
 * row_offsets, row_first, logprobs), whoever computes the rows (a local teacher or an endpoint).
 */
export interface ArtifactRows {
  /** row r: the index of its first stored position, and k ids and k log-probs (f16 bits) a position */
  setRow(r: number, first: number, ids: ArrayLike<number>, logprobsF16: ArrayLike<number>): void;
  /** writes the folder (beside `outDir`, then renamed: whole or absent) and returns its manifest */
  write(
    outDir: string,
    tokenizer: EngineTokenizer,
    about: {
      teacher: string;
      vocabSize: number;
      maxSeqLength: number;
      completionOnly: boolean;
      seconds: number;
    },
  ): TeacherLogitsManifest;
}

export function createArtifactRows(data: PreparedTeacherLogitsData, k: number): ArtifactRows {
  const { rows, positions } = data;
  const { header, total } = safetensorsSize(rows, positions, k);
  const buf = Buffer.alloc(total);
  header.copy(buf, 0);
  const base = header.length;
  const ids = new Int32Array(buf.buffer, buf.byteOffset + base, positions * k);
  const offsets = new Int32Array(buf.buffer, buf.byteOffset + base + positions * k * 4, rows + 1);
  const firsts = new Int32Array(buf.buffer, buf.byteOffset + base + positions * k * 4 + (rows + 1) * 4, rows);
  const lpOffset = base + positions * k * 4 + (rows + 1) * 4 + rows * 4;
  offsets.set(data.offsets);
  return {
    setRow(r, first, rowIds, logprobsF16) {
      const pos = data.offsets[r] as number;
      firsts[r] = first;
      ids.set(rowIds, pos * k);
      for (let i = 0; i < logprobsF16.length; i++)
        buf.writeUInt16LE(logprobsF16[i] as number, lpOffset + (pos * k + i) * 2);
    },
    write(outDir, tokenizer, about) {
      const tokJson = JSON.stringify(tokenizer.json);
      const manifest: TeacherLogitsManifest = {
        format: TEACHER_LOGITS_FORMAT,
        teacher: about.teacher,
        k,
        tokenizer: { sha256: sha256(tokJson), vocabSize: about.vocabSize },
        dataSha256: data.dataSha256,
        maxSeqLength: about.maxSeqLength,
        completionOnly: about.completionOnly,
        rows,
        positions,
        bytes: total,
        seconds: about.seconds,
      };
      const tmp = `${outDir}.${process.pid}.partial`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      writeFileSync(join(tmp, TEACHER_LOGITS_FILE), buf);
      writeFileSync(join(tmp, "tokenizer.json"), tokJson);
      writeFileSync(join(tmp, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
      rmSync(outDir, { recursive: true, force: true });
      renameSync(tmp, outDir);
      return manifest;
    },
  };
}

/** A loaded artifact: the lookup of row r's position t. */
export interface TeacherLogits {
  manifest: TeacherLogitsManifest;
  dir: string;
  ids: Int32Array;
  /** F16 bits */
  logprobs: Uint16Array;
  offsets: Int32Array;
  firsts: Int32Array;
}

const field = "distillation.teacherLogits.artifactId";

export function loadTeacherLogits(dir: string): TeacherLogits {
  let manifest: TeacherLogitsManifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as TeacherLogitsManifest;
  } catch (e) {
    throw new EngineError(
      "data_invalid",
      `teacher logits ${dir}: no readable manifest.json (${(e as Error).message})`,
      {
        field,
      },
    );
  }
  if (manifest.format !== TEACHER_LOGITS_FORMAT)
    throw new EngineError(
      "data_invalid",
      `teacher logits ${dir}: format ${manifest.format}, expected ${TEACHER_LOGITS_FORMAT}`,
      {
        field,
      },
    );
  const path = join(dir, TEACHER_LOGITS_FILE);
  const size = statSync(path).size;
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.toString("utf8", 8, 8 + n)) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const { rows, positions, k } = manifest;
  const expect = (name: string, dtype: string, shape: number[]) => {
    const t = header[name];
    if (!t || t.dtype !== dtype || t.shape.join(",") !== shape.join(","))
      throw new EngineError(
        "data_invalid",
        `teacher logits ${path}: tensor ${name} is missing or not ${dtype} [${shape}]`,
        {
          field,
        },
      );
    const [a, b] = t.data_offsets;
    if (8 + n + b > size)
      throw new EngineError("data_invalid", `teacher logits ${path} is truncated`, { field });
    // copied out: the views must be aligned
    return new Uint8Array(buf.subarray(8 + n + a, 8 + n + b)).buffer;
  };
  return {
    manifest,
    dir,
    ids: new Int32Array(expect("ids", "I32", [positions, k])),
    logprobs: new Uint16Array(expect("logprobs", "F16", [positions, k])),
    offsets: new Int32Array(expect("row_offsets", "I32", [rows + 1])),
    firsts: new Int32Array(expect("row_first", "I32", [rows])),
  };
}

/**
 * Refuses an artifact a run cannot use: another tokenizer (naming the first differing token),
 * other rendered data, a shorter max length, completion-only positions for a run that trains on
 * every token, or a top-k above the stored k.
 */
export function checkTeacherLogitsForRun(
  tl: TeacherLogits,
  run: {
    tokenizer: EngineTokenizer;
    studentName: string;
    dataPath: string;
    maxSeqLength: number;
    completionOnly: boolean;
    topK: number | undefined;
  },
): void {
  const m = tl.manifest;
  const tokJson = JSON.parse(readFileSync(join(tl.dir, "tokenizer.json"), "utf8"));
  const d = firstTokenizerDifference(run.tokenizer.json, tokJson);
  if (d)
    throw new EngineError(
      "config_invalid",
      `teacher logits ${tl.dir}: ${describeTokenizerDifference(d, { student: run.studentName, teacher: m.teacher })}`,
      { field },
    );
  const dataSha = sha256(readFileSync(run.dataPath));
  if (dataSha !== m.dataSha256)
    throw new EngineError(
      "config_invalid",
      `teacher logits ${tl.dir} were computed on other examples (data sha256 ${m.dataSha256.slice(0, 12)}…, this run's ${dataSha.slice(0, 12)}…): another dataset version or template`,
      { field },
    );
  if (run.maxSeqLength > m.maxSeqLength)
    throw new EngineError(
      "config_invalid",
      `teacher logits ${tl.dir} cover sequences up to ${m.maxSeqLength} tokens, the run trains on ${run.maxSeqLength}`,
      { field: "training.maxSeqLength" },
    );
  if (m.completionOnly && !run.completionOnly)
    throw new EngineError(
      "config_invalid",
      `teacher logits ${tl.dir} hold completion positions only; the run also trains on prompts`,
      { field: "training.completionOnlyLoss" },
    );
  if (run.topK !== undefined && run.topK > m.k)
    throw new EngineError(
      "config_invalid",
      `top-${run.topK} asked, the stored teacher logits keep ${m.k} tokens`,
      {
        field: "distillation.topK",
      },
    );
}

/**
 * The stored teacher distribution of a collated micro-batch (the same rows, in the same layout
 * as collateBatch lays them out): k ids and log-probabilities per counted position.
 */
export function storedTeacherTopK(
  tl: TeacherLogits,
  rows: (TokenizedExample | TokenizedExample[])[],
  seq: number,
  targets: Int32Array,
  k: number,
): TeacherDistribution {
  const K = tl.manifest.k;
  const kk = Math.min(k, K);
  const ids = new Int32Array(rows.length * seq * kk);
  const logprobs = new Float32Array(rows.length * seq * kk);
  rows.forEach((row, b) => {
    let start = 0;
    for (const e of Array.isArray(row) ? row : [row]) {
      const src = e.source;
      if (src === undefined) throw new Error("teacher logits need each example's row index");
      const off = tl.offsets[src] as number;
      const first = tl.firsts[src] as number;
      const n = (tl.offsets[src + 1] as number) - off;
      for (let t = 0; t + 1 < e.ids.length; t++) {
        const at = b * seq + start + t;
        if ((targets[at] as number) < 0) continue;
        const p = t - first;
        if (p < 0 || p >= n)
          throw new EngineError(
            "data_invalid",
            `teacher logits ${tl.dir}: row ${src} has no stored position ${t}`,
            { field },
          );
        for (let j = 0; j < kk; j++) {
          ids[at * kk + j] = tl.ids[(off + p) * K + j] as number;
          logprobs[at * kk + j] = fromF16(tl.logprobs[(off + p) * K + j] as number);
        }
      }
      start += e.ids.length - 1;
    }
  });
  return { kind: "topk", k: kk, ids, logprobs };
}
