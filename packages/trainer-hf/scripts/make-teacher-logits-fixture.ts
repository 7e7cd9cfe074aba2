/**
 * Writes tests/fixtures/teacher-logits/: a stored "teacher logits" artifact computed by the CPU
 * engine (engine-local's computeTeacherLogits on a tiny random teacher), the training JSONL it
 * was computed on, and engine-local's loss and gradient for a logit-KD step on those rows with
 * fixed student logits (stored top-k, alpha mix, JSD beta, temperature, top-k below the stored k).
 * tests/test_teacher_logits.py reads the artifact with the GPU trainer's reader, lays the same
 * rows out as the trainer does (padded, packed, flat), and must get the same loss and gradient.
 *
 *   npx tsx packages/trainer-hf/scripts/make-teacher-logits-fixture.ts   (from the repo root)
 *
 * It imports engine-local's internals by path: a fixture generator, not package code.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTinyModel } from "../../engine-local/src/create-tiny-model.ts";
import { Rng } from "../../engine-local/src/kernels/rng.ts";
import { crossEntropy } from "../../engine-local/src/model/ops/cross-entropy.ts";
import { distillLoss } from "../../engine-local/src/model/ops/distill-loss.ts";
import { loadTokenizer } from "../../engine-local/src/tokenizer/engine-tokenizer.ts";
import {
  computeTeacherLogits,
  loadTeacherLogits,
  storedTeacherTopK,
} from "../../engine-local/src/train/teacher-logits.ts";
import {
  collateBatch,
  readExamplesJsonl,
  type TokenizedExample,
} from "../../engine-local/src/train/training-data.ts";

const OUT = fileURLToPath(new URL("../tests/fixtures/teacher-logits/", import.meta.url));
const ARTIFACT_MAX = 40; // the artifact's maxSeqLength
const RUN_MAX = 32; // the run's (≤ the artifact's); one row is longer and is truncated
const STORED_K = 6;
const LOSS = { alpha: 0.3, beta: 0.5, temperature: 2, topK: 4 };

const WORDS = ["black", "red", "blue", "up", "left", "hot"];
const OPPOSITE = ["white", "green", "orange", "down", "right", "cold"];
const prompt = (w: string) => `<|user|>\nOpposite of ${w}?<|end|>\n<|assistant|>\n`;
const rows = WORDS.map((w, i) => ({
  prompt: prompt(w),
  completion:
    i === 5
      ? `<think>\n${w} is a temperature word; the opposite of ${w} is ${OPPOSITE[i]}, said plainly\n</think>\n\n${OPPOSITE[i]}<|end|>\n`
      : `<think>\n${w}\n</think>\n\n${OPPOSITE[i]}<|end|>\n`,
}));

const work = mkdtempSync(join(tmpdir(), "tl-fixture-"));
const teacherDir = join(work, "teacher");
mkdirSync(teacherDir);
createTinyModel(teacherDir, {
  corpus: rows.flatMap((r) => [r.prompt, r.completion]),
  vocabSize: 280,
  hiddenSize: 32,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  maxPositions: 128,
  // as a reasoning model's tokenizer has them: a run adds the default specialTokens (<think>,
  // </think>) to a tokenizer that lacks them, which would then differ from the artifact's
  extraSpecialTokens: ["<think>", "</think>"],
  seed: 7,
});
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const dataPath = join(OUT, "train.jsonl");
writeFileSync(dataPath, `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
const artifactDir = join(OUT, "artifact");
computeTeacherLogits(teacherDir, dataPath, artifactDir, {
  teacherName: "tiny-teacher",
  k: STORED_K,
  maxSeqLength: ARTIFACT_MAX,
  completionOnly: true,
});
const tl = loadTeacherLogits(artifactDir);
const tok = loadTokenizer(teacherDir);
const V = tl.manifest.tokenizer.vocabSize;

// The rows as the run tokenizes them (the same ids engine-local stored), cut at the run's length
// as the GPU trainer cuts them: prompt + completion, at most RUN_MAX ids.
const all = readExamplesJsonl(dataPath, "data");
const tokenized = all.map((e, source) => {
  const p = tok.encode(e.prompt, true);
  const c = tok.encode(e.completion, false);
  return { promptIds: p, completionIds: c, source };
});
const examples: TokenizedExample[] = tokenized.map(({ promptIds, completionIds, source }) => {
  const ids = [...promptIds, ...completionIds].slice(0, RUN_MAX);
  return { ids, completionStart: Math.min(promptIds.length, ids.length), source };
});

// fixed student logits per (example, position t): t predicts ids[t + 1]; float32 values, so
// the fixture stores them exactly in half the bytes
const rng = Rng.fromSeed(11, 0);
const studentOf = examples.map((e) =>
  Array.from({ length: (e.ids.length - 1) * V }, () => Math.fround((rng.next() * 2 - 1) * 3)),
);

/** engine-local's loss on a layout: the same computation as its training step's */
function engineLoss(layout: (TokenizedExample | TokenizedExample[])[]) {
  const b = collateBatch(layout, 0, true);
  const rowsN = b.batch * b.seq;
  const logits = new Float64Array(rowsN * V).fill(0.25);
  const where: { src: number; t: number; at: number }[] = [];
  layout.forEach((row, bi) => {
    let start = 0;
    for (const e of Array.isArray(row) ? row : [row]) {
      const s = studentOf[e.source as number] as number[];
      for (let t = 0; t + 1 < e.ids.length; t++) {
        const at = bi * b.seq + start + t;
        logits.set(s.slice(t * V, (t + 1) * V), at * V);
        where.push({ src: e.source as number, t, at });
      }
      start += e.ids.length - 1;
    }
  });
  const counted = b.counted;
  const dist = storedTeacherTopK(tl, layout, b.seq, b.targets, LOSS.topK);
  const ce = crossEntropy(logits, b.targets, rowsN, V, LOSS.alpha / counted, true);
  const kd = distillLoss(
    logits,
    dist,
    b.targets,
    rowsN,
    V,
    { beta: LOSS.beta, temperature: LOSS.temperature },
    (1 - LOSS.alpha) / counted,
    true,
  );
  const grad = new Map<string, number[]>();
  for (const { src, t, at } of where) {
    const g: number[] = [];
    for (let j = 0; j < V; j++)
      g.push(((ce.dlogits?.[at * V + j] as number) ?? 0) + ((kd.dlogits?.[at * V + j] as number) ?? 0));
    grad.set(`${src}:${t}`, g);
  }
  return {
    loss: (LOSS.alpha * ce.lossSum + (1 - LOSS.alpha) * kd.lossSum) / counted,
    ceSum: ce.lossSum,
    kdSum: kd.lossSum,
    counted,
    agree: kd.agreeCount,
    grad,
  };
}

// unpacked and packed (engine-local's own layouts) must agree before they are the reference
const unpacked = engineLoss(examples);
const packed = engineLoss([
  [examples[0], examples[2], examples[4]] as TokenizedExample[],
  [examples[1], examples[5]] as TokenizedExample[],
  [examples[3]] as TokenizedExample[],
]);
if (Math.abs(unpacked.loss - packed.loss) > 1e-12 || unpacked.counted !== packed.counted)
  throw new Error(`engine-local's packed and unpacked losses differ: ${unpacked.loss} ${packed.loss}`);

// binary tensors in safetensors: the student's logits (F32, exact) and engine-local's gradient
// (F64, compared to 1e-10) at the counted positions (target a completion token); elsewhere the
// logits do not enter the loss and the gradient must be 0
const order = examples.flatMap((e) =>
  Array.from({ length: e.ids.length - 1 }, (_, t) => ({ src: e.source as number, t })).filter(
    ({ t }) => t + 1 >= e.completionStart,
  ),
);
const tensors: Record<string, Float32Array | Float64Array> = {
  student: Float32Array.from(
    order.flatMap(({ src, t }) => (studentOf[src] as number[]).slice(t * V, (t + 1) * V)),
  ),
  grad: Float64Array.from(
    order.flatMap(({ src, t }) => unpacked.grad.get(`${src}:${t}`) ?? new Array<number>(V).fill(0)),
  ),
};
let offset = 0;
const header: Record<string, unknown> = {};
for (const [name, a] of Object.entries(tensors)) {
  const dtype = a instanceof Float32Array ? "F32" : "F64";
  header[name] = { dtype, shape: [order.length, V], data_offsets: [offset, offset + a.byteLength] };
  offset += a.byteLength;
}
let json = JSON.stringify(header);
json += " ".repeat((8 - ((json.length + 8) % 8)) % 8);
const head = Buffer.alloc(8);
head.writeBigUInt64LE(BigInt(json.length));
writeFileSync(
  join(OUT, "student.safetensors"),
  Buffer.concat([
    head,
    Buffer.from(json),
    ...Object.values(tensors).map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)),
  ]),
);
writeFileSync(
  join(OUT, "expected.json"),
  `${JSON.stringify(
    {
      note: "written by scripts/make-teacher-logits-fixture.ts from engine-local; read by tests/test_teacher_logits.py",
      runMaxSeqLength: RUN_MAX,
      vocab: V,
      loss: LOSS,
      rows: tokenized.map((r) => ({
        source: r.source,
        promptIds: r.promptIds,
        completionIds: r.completionIds,
      })),
      positions: order,
      expected: {
        loss: unpacked.loss,
        ceSum: unpacked.ceSum,
        kdSum: unpacked.kdSum,
        counted: unpacked.counted,
        agree: unpacked.agree,
      },
    },
    null,
    1,
  )}\n`,
);
rmSync(work, { recursive: true, force: true });
console.log(
  `fixture: ${all.length} rows, ${tl.manifest.positions} stored positions (k ${STORED_K}), ${order.length} student positions, vocab ${V}; loss ${unpacked.loss}`,
);
