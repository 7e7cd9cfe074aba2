import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EngineEvent, ZEngineEvent } from "@distillery/core";
import {
  computeTeacherLogits,
  computeTeacherLogitsFromEndpoint,
  createEndpointTeacher,
  createTinyModel,
  type EndpointTeacher,
  readTeacherKey,
  runTraining,
} from "@distillery/engine-local";
import { collectEvents, makeJob, makeTaskExamples, writeJsonl } from "@distillery/engine-local/testing";
import {
  createModelPool,
  handleCompletions,
  handleTokenize,
  type ModelPool,
  UnknownModelError,
} from "@distillery/inference";
import { serveOverHttp } from "@distillery/inference/testing";
import { startFakeTeacher } from "@distillery/teacher/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * A teacher endpoint as a distillation teacher, end to end over real HTTP: the teacher is a
 * tiny model served by the studio's own /v1/completions (packages/inference, a real model
 * process) speaking vLLM's `prompt_logprobs`; the same model run locally is the reference.
 */
const root = mkdtempSync(join(tmpdir(), "endpoint-teacher-"));
let student = "";
let teacherDir = "";
let pool: ModelPool;
let server: { url: string; close: () => Promise<void> };
const spec = () => ({ name: "served-teacher", baseUrl: `${server.url}/v1`, model: "teacher" });

/** counts the endpoint's scoring calls */
function counting(t: EndpointTeacher): EndpointTeacher & { calls: number } {
  const c = {
    ...t,
    calls: 0,
    score: (seqs: number[][], signal?: AbortSignal) => {
      c.calls++;
      return t.score(seqs, signal);
    },
  };
  return c;
}

function series(events: EngineEvent[], key: string): number[] {
  return events.flatMap((e) =>
    e.type === "metric" && e.values[key] !== undefined ? [e.values[key] as number] : [],
  );
}

const training = (steps: number) => ({
  maxSteps: steps,
  perDeviceBatchSize: 8,
  gradientAccumulationSteps: 1,
  learningRate: 1e-2,
  scheduler: "constant",
  warmupRatio: 0,
  maxGradNorm: 1,
  loggingSteps: 1,
  evalStrategy: "no",
  saveStrategy: "no",
  seed: 3,
  maxSeqLength: 64,
});

beforeAll(async () => {
  // same corpus → the same BPE tokenizer (with <think> tags as special tokens, as reasoning
  // models have them: a run adds them to a student that lacks them); a wider teacher
  const model = (hiddenSize: number, seed: number) => {
    const dir = mkdtempSync(join(root, "model-"));
    createTinyModel(dir, {
      corpus: makeTaskExamples().flatMap((e) => [e.prompt, e.completion]),
      vocabSize: 300,
      hiddenSize,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      maxPositions: 128,
      tieWordEmbeddings: true,
      extraSpecialTokens: ["<think>", "</think>"],
      seed,
    });
    return dir;
  };
  student = model(32, 1);
  // a teacher that has learnt the fixture task (full fine-tune of a wider model)
  const job = makeJob(model(48, 2), { lora: { method: "full" }, training: training(150) });
  await runTraining(job, { emit: () => {} });
  teacherDir = join(job.paths.outDir, "model");
  pool = createModelPool({
    budgetBytes: 1 << 30,
    slots: 4,
    threads: 1,
    resolve: async (id) => {
      if (id !== "teacher") throw new UnknownModelError(id);
      return { modelDir: teacherDir, templateId: "phi3" };
    },
  });
  server = await serveOverHttp({
    "POST /v1/completions": (req) => handleCompletions({ pool }, req),
    "POST /tokenize": (req) => handleTokenize({ pool }, req),
  });
});

afterAll(async () => {
  await server?.close();
  await pool?.close();
});

describe("teacher logits from an endpoint", () => {
  it("equal the local teacher's artifact (ids exact, log-probs within fp16), and resume from the spool", async () => {
    const data = writeJsonl(makeTaskExamples());
    const local = join(root, "local");
    const fromEndpoint = join(root, "endpoint");
    const opts = { k: 5, maxSeqLength: 64, completionOnly: true, teacherName: "t" };
    const m1 = computeTeacherLogits(teacherDir, data, local, opts);
    // first attempt: stopped after its first batch (2 rows a batch, one request at a time)
    const teacher = counting(createEndpointTeacher(spec(), 5));
    const stop = new AbortController();
    const first = await computeTeacherLogitsFromEndpoint(teacher, teacherDir, data, fromEndpoint, {
      ...opts,
      batchSize: 2,
      concurrency: 1,
      signal: stop.signal,
      onProgress: (done) => {
        if (done >= 2) stop.abort();
      },
    }).catch((e: Error) => e);
    expect(first).toBeInstanceOf(Error);
    expect(existsSync(`${fromEndpoint}.spool.ndjson`)).toBe(true);
    expect(teacher.calls).toBe(1);
    // second attempt: only the rows the spool lacks are asked
    const again = counting(createEndpointTeacher(spec(), 5));
    const m2 = await computeTeacherLogitsFromEndpoint(again, teacherDir, data, fromEndpoint, {
      ...opts,
      batchSize: 2,
      concurrency: 2,
    });
    expect(again.calls).toBe(3);
    expect(existsSync(`${fromEndpoint}.spool.ndjson`)).toBe(false);
    const { seconds: _s1, ...rest1 } = m1;
    const { seconds: _s2, ...rest2 } = m2;
    expect(rest2).toEqual(rest1);
    const a = readFileSync(join(local, "teacher_logits.safetensors"));
    const b = readFileSync(join(fromEndpoint, "teacher_logits.safetensors"));
    expect(b.length).toBe(a.length);
    const n = Number(a.readBigUInt64LE(0));
    const header = JSON.parse(a.toString("utf8", 8, 8 + n)) as Record<
      string,
      { data_offsets: [number, number] }
    >;
    const at = (name: string) => header[name]?.data_offsets as [number, number];
    const [i0, i1] = at("ids");
    expect(b.subarray(8 + n + i0, 8 + n + i1).equals(a.subarray(8 + n + i0, 8 + n + i1))).toBe(true);
    for (const name of ["row_offsets", "row_first"]) {
      const [o0, o1] = at(name);
      expect(b.subarray(8 + n + o0, 8 + n + o1).equals(a.subarray(8 + n + o0, 8 + n + o1))).toBe(true);
    }
    const [l0, l1] = at("logprobs");
    const half = (buf: Buffer, i: number) => {
      const h = buf.readUInt16LE(8 + n + l0 + i * 2);
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      return (h & 0x8000 ? -1 : 1) * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
    };
    let worst = 0;
    for (let i = 0; i < (l1 - l0) / 2; i++) {
      const x = half(a, i);
      // one fp16 step at that magnitude (the incremental and the batched forward round apart)
      worst = Math.max(worst, Math.abs(half(b, i) - x) / Math.max(2 ** -14, Math.abs(x) * 2 ** -10));
    }
    expect(worst).toBeLessThanOrEqual(1);
  });
});

describe("a CPU run with an endpoint teacher", () => {
  const endpointJob = (mode: "logit" | "on-policy", steps: number) => {
    const job = makeJob(student, {
      lora: { method: "full" },
      training: training(steps),
      distillation: {
        mode,
        teacherEndpoint: { teacherId: "t1" },
        topK: 20,
        ...(mode === "logit" ? { temperature: 2 } : { maxNewTokens: 6 }),
      },
    });
    job.paths.teacherEndpoint = spec();
    return job;
  };

  it("logit KD learns the endpoint's distribution, with the loss of the local teacher at the same top-k", async () => {
    const { events, emit } = collectEvents();
    await runTraining(endpointJob("logit", 25), { emit });
    for (const e of events) expect(ZEngineEvent.safeParse(e).success).toBe(true);
    expect(
      events.some(
        (e) =>
          e.type === "log" && /logit distillation from the teacher endpoint "served-teacher"/.test(e.message),
      ),
    ).toBe(true);
    const kd = series(events, "kd_loss");
    const agree = series(events, "top1_agreement");
    expect(kd).toHaveLength(25);
    expect(kd.at(-1)).toBeLessThan((kd[0] as number) / 2);
    expect(agree.at(-1)).toBeGreaterThan((agree[0] as number) + 0.2);
    expect(series(events, "teacher_logprob")).toHaveLength(25);

    // the same first step with the teacher run locally at top-20: the same loss
    const local = makeJob(student, {
      lora: { method: "full" },
      training: training(1),
      distillation: { mode: "logit", teacher: { modelId: "teacher" }, topK: 20, temperature: 2 },
    });
    local.paths.teacherModel = teacherDir;
    const ref = collectEvents();
    await runTraining(local, { emit: ref.emit });
    expect(kd[0]).toBeCloseTo(series(ref.events, "kd_loss")[0] as number, 4);
  });

  it("on-policy: the endpoint scores the student's own samples", async () => {
    const { events, emit } = collectEvents();
    await runTraining(endpointJob("on-policy", 3), { emit });
    expect(series(events, "kd_loss")).toHaveLength(3);
    expect(series(events, "sampled_length").every((v) => v > 0)).toBe(true);
    expect(series(events, "teacher_logprob").every((v) => v < 0)).toBe(true);
  });

  it("an endpoint without prompt_logprobs fails the run at its first batch, naming the teacher and the field", async () => {
    const fake = await startFakeTeacher({ isWithoutPromptLogprobs: true });
    try {
      const job = endpointJob("logit", 5);
      job.paths.teacherEndpoint = { name: "openai-like", baseUrl: fake.baseUrl, model: "fake-r1" };
      const { events, emit } = collectEvents();
      await expect(runTraining(job, { emit })).rejects.toThrow(
        /teacher "openai-like" \(model fake-r1\) answered \/v1\/completions without `prompt_logprobs`/,
      );
      expect(series(events, "loss")).toHaveLength(0);
      expect(fake.requests.length + 1).toBeGreaterThan(0);
    } finally {
      await fake.close();
    }
  });

  it("the key comes from a 0600 file or the environment, never the job; a file others can read is refused", () => {
    const keyFile = join(root, "key");
    writeFileSync(keyFile, "sk-from-file\n");
    chmodSync(keyFile, 0o600);
    expect(readTeacherKey({ ...spec(), keyFile }, {})).toBe("sk-from-file");
    expect(readTeacherKey(spec(), { DISTILLERY_TEACHER_API_KEY: "sk-env" })).toBe("sk-env");
    chmodSync(keyFile, 0o644);
    expect(() => readTeacherKey({ ...spec(), keyFile }, {})).toThrow(
      /readable by others \(mode 644\): it must be 0600/,
    );
  });
});
