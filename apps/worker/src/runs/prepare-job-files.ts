import { once } from "node:events";
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type EngineJob,
  type RunConfig,
  reasoningTemplateKwargs,
  renderChat,
  resolveTemplate,
  toEngineExample,
  ZRunConfig,
} from "@distillery/core";
import { readVersionRows, writeEngineJsonl } from "@distillery/datasets";
import type { Db } from "@distillery/db";
import type { BlobStore } from "@distillery/storage";
import { loadTeacherEndpoint } from "@distillery/teacher/store";
import { RunSetupError } from "./engine-launcher.ts";
import { materializePrefix, resolveModelDir, resolveVersionRows } from "./materialize.ts";

export interface JobFiles {
  job: EngineJob;
  jobPath: string;
  /**
   * an endpoint teacher's API key, opened for the engine's environment only (never in job.json,
   * argv, logs or events)
   */
  teacherApiKey?: string;
  /** the base model dir (eval "before" reads it; eval "after" adds the adapter) */
  baseModelDir: string;
}

/** Writes JSONL lines to a temp file and renames it into place: a killed worker leaves no half file. */
async function writeJsonlOnce<T>(path: string, rows: AsyncIterable<T>): Promise<number> {
  if (existsSync(path)) return -1;
  const temp = `${path}.${process.pid}.partial`;
  const out = createWriteStream(temp);
  let n = 0;
  for await (const row of rows) {
    if (!out.write(`${JSON.stringify(row)}\n`)) await once(out, "drain");
    n++;
  }
  out.end();
  await once(out, "close");
  renameSync(temp, path);
  return n;
}

export function parseRunConfig(raw: unknown): RunConfig {
  const parsed = ZRunConfig.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RunSetupError(
      `invalid run config: ${issue?.path.join(".")}: ${issue?.message}`,
      issue?.path.join("."),
    );
  }
  return parsed.data;
}

/**
 * Everything an engine reads, under the run's folder: the base model resolved to a local dir,
 * the dataset version rendered with the run's chat template into {prompt, completion} JSONL,
 * the held-out evaluation tasks, the rendered sample prompts, and job.json. Rendered files are
 * written once, so a resumed run trains on exactly the same data.
 */
export async function prepareJobFiles(options: {
  db: Db;
  store: BlobStore;
  cacheDir: string;
  run: { id: string; workspaceId: string; config: unknown };
  runDir: string;
  startSeq: number;
  allowHubId?: boolean;
  /** opens an endpoint teacher's sealed key (distillation.teacherEndpoint) */
  secretKey?: Buffer;
}): Promise<JobFiles> {
  const { db, store, run, runDir, cacheDir } = options;
  const config = parseRunConfig(run.config);
  const { dir: baseModelDir, nameOrPath: baseModelNameOrPath } = await resolveModelDir(
    db,
    store,
    run.workspaceId,
    config.model.id,
    cacheDir,
    options.allowHubId,
  );
  // logit / on-policy distillation: the frozen teacher's folder, resolved like the base model
  // (not with stored teacher logits: the engine reads those instead of running the teacher)
  const teacherModelDir =
    config.distillation.teacher && !config.distillation.teacherLogits
      ? (
          await resolveModelDir(
            db,
            store,
            run.workspaceId,
            config.distillation.teacher.modelId,
            cacheDir,
          ).catch((e) => {
            throw e instanceof RunSetupError
              ? new RunSetupError(
                  e.message.replace(/^model /, "teacher model "),
                  "distillation.teacher.modelId",
                )
              : e;
          })
        ).dir
      : undefined;
  const tokenizerConfigPath = join(baseModelDir, "tokenizer_config.json");
  const tokenizerConfig = existsSync(tokenizerConfigPath)
    ? JSON.parse(readFileSync(tokenizerConfigPath, "utf8"))
    : undefined;
  let spec: ReturnType<typeof resolveTemplate>;
  try {
    // transformers prefers a model folder's chat_template.jinja over tokenizer_config.json's field
    const templateFile = join(baseModelDir, "chat_template.jinja");
    spec = resolveTemplate(
      config.data.template,
      tokenizerConfig,
      config.model.id,
      existsSync(templateFile) ? readFileSync(templateFile, "utf8") : undefined,
    );
  } catch (e) {
    throw new RunSetupError((e as Error).message, "data.template");
  }
  const dataDir = join(runDir, "data");
  mkdirSync(dataDir, { recursive: true });
  // rendered once per run: a resumed run trains on exactly the same files
  const renderOnce = async (rowsPath: string, path: string) =>
    existsSync(path)
      ? -1
      : (
          await writeEngineJsonl({
            readRows: () => readVersionRows(rowsPath),
            template: spec,
            systemPrompt: config.data.systemPrompt,
            path,
          })
        ).rows;

  const trainRows = await resolveVersionRows(
    db,
    store,
    run.workspaceId,
    config.data.datasetVersionId,
    cacheDir,
    "data.datasetVersionId",
  );
  const trainData = join(dataDir, "train.jsonl");
  if ((await renderOnce(trainRows, trainData)) === 0) {
    throw new RunSetupError(
      `dataset version ${config.data.datasetVersionId} has no rows`,
      "data.datasetVersionId",
    );
  }
  let evalData: string | undefined;
  if (config.data.evalDatasetVersionId) {
    const rows = await resolveVersionRows(
      db,
      store,
      run.workspaceId,
      config.data.evalDatasetVersionId,
      cacheDir,
      "data.evalDatasetVersionId",
    );
    evalData = join(dataDir, "eval.jsonl");
    await renderOnce(rows, evalData);
  }
  let evalTasks: string | undefined;
  if (config.evaluation) {
    const rows = await resolveVersionRows(
      db,
      store,
      run.workspaceId,
      config.evaluation.datasetVersionId,
      cacheDir,
      "evaluation.datasetVersionId",
    );
    evalTasks = join(dataDir, "eval-tasks.jsonl");
    const max = config.evaluation.maxExamples;
    await writeJsonlOnce(
      evalTasks,
      (async function* () {
        let n = 0;
        for await (const row of readVersionRows(rows)) {
          if (n++ >= max) return;
          yield {
            prompt: toEngineExample(row, spec, { systemPrompt: config.data.systemPrompt }).prompt,
            reference: row.reference ?? row.answer,
          };
        }
      })(),
    );
  }
  const samplePrompts = config.sampling.prompts.map((prompt) => ({
    prompt,
    rendered: renderChat(
      spec,
      [
        ...(config.data.systemPrompt ? [{ role: "system" as const, content: config.data.systemPrompt }] : []),
        { role: "user", content: prompt },
      ],
      // rendered as the training prompts of rows with reasoning are (enable_thinking on), so
      // a Qwen3 / DeepSeek-V3.1 template opens the think block the student learned to fill
      { addGenerationPrompt: true, templateKwargs: reasoningTemplateKwargs(true) },
    ),
  }));
  // logit mode with stored teacher logits: the artifact's folder (the engine checks it against
  // the rendered data, the student's tokenizer, the max length and top-k)
  let teacherLogitsDir: string | undefined;
  const artifactId = config.distillation.teacherLogits?.artifactId;
  if (artifactId) {
    const field = "distillation.teacherLogits.artifactId";
    const artifact = await db.teacherLogits.findFirst({
      where: { id: artifactId, workspaceId: run.workspaceId },
    });
    if (!artifact)
      throw new RunSetupError(`teacher logits ${artifactId} no longer exist in this workspace`, field);
    if (artifact.status !== "ready" || !artifact.blobPrefix)
      throw new RunSetupError(`teacher logits ${artifactId} are ${artifact.status}, not ready`, field);
    if (artifact.versionId !== config.data.datasetVersionId)
      throw new RunSetupError(
        `teacher logits ${artifactId} belong to dataset version ${artifact.versionId}, the run trains on ${config.data.datasetVersionId}`,
        field,
      );
    try {
      teacherLogitsDir = await materializePrefix(store, artifact.blobPrefix, cacheDir);
    } catch (e) {
      throw new RunSetupError(
        `teacher logits ${artifactId}: their files are missing (${(e as Error).message})`,
        field,
      );
    }
  }
  // an endpoint teacher (stored logits win: the engine reads those instead)
  let teacherEndpoint: EngineJob["paths"]["teacherEndpoint"];
  let teacherApiKey: string | undefined;
  const endpointRef = config.distillation.teacherEndpoint;
  if (endpointRef && !config.distillation.teacherLogits) {
    const field = "distillation.teacherEndpoint";
    if (!options.secretKey)
      throw new RunSetupError("this worker cannot open teacher keys (no secret key configured)", field);
    const endpoint = await loadTeacherEndpoint(db, options.secretKey, run.workspaceId, endpointRef.teacherId);
    if (!endpoint)
      throw new RunSetupError(
        `teacher endpoint ${endpointRef.teacherId} no longer exists in this workspace`,
        field,
      );
    if (endpoint.api !== "openai")
      throw new RunSetupError(
        `teacher endpoint "${endpoint.name}" speaks ollama's /api/chat, which has no prompt_logprobs`,
        field,
      );
    teacherEndpoint = { name: endpoint.name, baseUrl: endpoint.baseUrl, model: endpoint.model };
    teacherApiKey = endpoint.apiKey;
  }
  const job: EngineJob = {
    runId: run.id,
    config,
    paths: {
      ...(teacherEndpoint ? { teacherEndpoint } : {}),
      baseModel: baseModelDir,
      ...(teacherModelDir ? { teacherModel: teacherModelDir } : {}),
      ...(teacherLogitsDir ? { teacherLogits: teacherLogitsDir } : {}),
      baseModelNameOrPath,
      trainData,
      evalData,
      evalTasks,
      outDir: join(runDir, "out"),
    },
    samplePrompts,
    startSeq: options.startSeq,
  };
  const jobPath = join(runDir, "job.json");
  writeFileSync(`${jobPath}.partial`, JSON.stringify(job, null, 2));
  renameSync(`${jobPath}.partial`, jobPath);
  return { job, jobPath, baseModelDir, ...(teacherApiKey ? { teacherApiKey } : {}) };
}
