import { randomBytes } from "node:crypto";
import type { CanonicalExample } from "@distillery/core";
import { readVersionRows } from "@distillery/datasets";
import type { Db, Prisma } from "@distillery/db";
import { writeTeacherTrace } from "@distillery/demo";
import type { BlobStore } from "@distillery/storage";
import { ZGenerationConfig } from "@distillery/teacher";
import { executeGenerationJob } from "@distillery/teacher/jobs";
import { claimGenerationJob, createGenerationJob } from "@distillery/teacher/store";
import { startFakeTeacher } from "@distillery/teacher/testing";

export const DEMO_TEACHER_NAME = "Demo teacher (local R1-style endpoint)";

/** The demo's teacher answers a prompt "What is a + b?" with its column-addition trace. */
function answerDemoPrompt(prompt: string) {
  const m = /What is (\d+) \+ (\d+)\?/.exec(prompt);
  if (!m) return { reasoning: "I cannot read this problem.", answer: "\\boxed{0}" };
  return writeTeacherTrace({ a: Number(m[1]), b: Number(m[2]) });
}

/**
 * The demo's traces come through the teacher path, as a newcomer's own would: a real local HTTP
 * server speaking the OpenAI protocol and streaming `reasoning_content` is the teacher; a
 * generation job sends it the demo's training problems, verifies each answer against its
 * reference and writes the dataset version the distillation trains on. The job is run here, in
 * the seeding process (the server lives only as long as the job); the studio shows it after.
 */
export async function generateDemoTraces(options: {
  db: Db;
  store: BlobStore;
  workspaceId: string;
  createdById: string;
  /** the demo plan's traces file: the problems (prompt and reference) in their order */
  problemsPath: string;
  datasetName: string;
  log: (m: string) => void;
}) {
  const { db } = options;
  const prompts: { prompt: string; reference: string }[] = [];
  for await (const row of readVersionRows(options.problemsPath)) {
    const r = row as CanonicalExample;
    prompts.push({ prompt: r.messages.at(-1)?.content ?? "", reference: r.reference ?? "" });
  }
  const server = await startFakeTeacher({
    reasoning: "reasoning_content",
    models: ["demo-r1"],
    answer: answerDemoPrompt,
  });
  try {
    const fields = {
      api: "openai",
      baseUrl: server.baseUrl,
      model: "demo-r1",
      priceInPerM: 0,
      priceOutPerM: 0,
    };
    const teacher = await db.teacher.upsert({
      where: { workspaceId_name: { workspaceId: options.workspaceId, name: DEMO_TEACHER_NAME } },
      update: fields,
      create: {
        id: `tch_demo_${randomBytes(4).toString("hex")}`,
        workspaceId: options.workspaceId,
        name: DEMO_TEACHER_NAME,
        ...fields,
      },
    });
    const config = ZGenerationConfig.parse({
      source: { kind: "prompts", fileName: "demo problems" },
      // the prompts go as they are: the student learns the demo's own questions
      sampling: { instruction: "", maxTokens: 512 },
      concurrency: 32,
      keepOnlyVerified: true,
      outputDatasetName: options.datasetName,
    });
    const job = await createGenerationJob(db, {
      workspaceId: options.workspaceId,
      name: "Tiny reasoning demo — teacher traces",
      teacherId: teacher.id,
      config: config as unknown as Prisma.InputJsonValue,
      prompts: prompts as unknown as Prisma.InputJsonValue,
      total: prompts.length,
      createdById: options.createdById,
    });
    const workerId = `demo-seeder-${process.pid}`;
    const lease = await claimGenerationJob(db, job.id, workerId);
    if (!lease) throw new Error(`could not claim the demo's generation job ${job.id}`);
    options.log(
      `[demo] the demo teacher answers ${prompts.length} problems through a generation job (${job.id})…`,
    );
    const result = (await executeGenerationJob(
      {
        db,
        store: options.store,
        log: { info: () => {}, warn: (o, m) => options.log(`[demo] ${m}: ${JSON.stringify(o)}`) },
        workerId,
        // the demo teacher has no key to open
        secretKey: randomBytes(32),
        heartbeatMs: 1_000,
        shutdownSignal: new AbortController().signal,
        enqueue: async () => {},
      },
      lease,
      { generationJobId: job.id, workspaceId: options.workspaceId },
    )) as { status: string; versionId?: string; error?: string };
    if (result.status !== "succeeded" || !result.versionId) {
      throw new Error(`the demo's generation job ${job.id} ended ${result.status}: ${result.error ?? ""}`);
    }
    return db.datasetVersion.findUniqueOrThrow({ where: { id: result.versionId } });
  } finally {
    await server.close();
  }
}
