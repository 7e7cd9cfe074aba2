import "server-only";
import { teacherLogitsPrefix } from "@distillery/catalog";
import { describeTokenizerDifference, firstTokenizerDifference, type RunConfig } from "@distillery/core";
import { readModelTokenizer } from "@/features/runs/server/teacher-tokenizers.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";

const FIELD = "body.config.distillation.teacherLogits.artifactId";

async function readArtifactTokenizer(id: string): Promise<unknown | null> {
  const { store } = getContext();
  const key = `${teacherLogitsPrefix(id)}/tokenizer.json`;
  if (!(await store.exists(key))) return null;
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

/**
 * A run that reads stored teacher logits (`distillation.teacherLogits.artifactId`): the artifact
 * must exist in the workspace, be ready, belong to the run's dataset version, share the student's
 * tokenizer, and cover the run's rendering (template, system prompt), max length and top-k. Each
 * refusal is a 422 naming the field (the engine checks the same again when it reads the files).
 */
export async function checkTeacherLogitsArtifact(
  workspaceId: string,
  config: RunConfig,
  studentModelId: string | null,
): Promise<void> {
  const ref = config.distillation.teacherLogits;
  if (!ref) return;
  const refuse = (reason: string, field = FIELD): never => {
    throw new AppError("unprocessable", reason, [{ field, message: reason }]);
  };
  const { db } = getContext();
  const artifact = await db.teacherLogits.findFirst({ where: { id: ref.artifactId, workspaceId } });
  if (!artifact) return refuse(`teacher logits ${ref.artifactId} do not exist in this workspace`);
  if (artifact.versionId !== config.data.datasetVersionId)
    refuse(
      `teacher logits ${artifact.id} belong to dataset version ${artifact.versionId}, the run trains on ${config.data.datasetVersionId}`,
    );
  if (artifact.status !== "ready") refuse(`teacher logits ${artifact.id} are ${artifact.status}, not ready`);
  if (artifact.template !== config.data.template)
    refuse(
      `teacher logits ${artifact.id} were rendered with the ${artifact.template} template, the run uses ${config.data.template}`,
      "body.config.data.template",
    );
  if ((artifact.systemPrompt ?? "") !== (config.data.systemPrompt ?? ""))
    refuse(
      `teacher logits ${artifact.id} were rendered with another system prompt than the run's`,
      "body.config.data.systemPrompt",
    );
  if (config.training.maxSeqLength > artifact.maxSeqLength)
    refuse(
      `teacher logits ${artifact.id} cover sequences up to ${artifact.maxSeqLength} tokens, the run trains on ${config.training.maxSeqLength}`,
      "body.config.training.maxSeqLength",
    );
  if (config.distillation.topK !== undefined && config.distillation.topK > artifact.k)
    refuse(
      `top-${config.distillation.topK} asked, the stored teacher logits keep ${artifact.k} tokens`,
      "body.config.distillation.topK",
    );
  const student = studentModelId
    ? await db.model.findFirst({
        where: { id: studentModelId, workspaceId },
        select: { name: true, location: true },
      })
    : null;
  const [studentTok, artifactTok] = await Promise.all([
    readModelTokenizer(student?.location ?? null),
    readArtifactTokenizer(artifact.id),
  ]);
  if (!artifactTok) refuse(`teacher logits ${artifact.id}: their tokenizer.json is missing from storage`);
  if (!studentTok) return; // a student the studio does not hold: the engine checks when it loads it
  const d = firstTokenizerDifference(studentTok, artifactTok, config.specialTokens);
  if (d)
    refuse(
      `teacher logits ${artifact.id}: ${describeTokenizerDifference(d, { student: student?.name ?? config.model.id, teacher: artifact.teacherName })}`,
    );
}
