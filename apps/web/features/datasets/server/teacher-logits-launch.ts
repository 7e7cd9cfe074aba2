import "server-only";
import {
  describeTokenizerDifference,
  firstTokenizerDifference,
  idToTokenOf,
  type RunConfig,
} from "@distillery/core";
import { readModelTokenizer } from "@/features/runs/server/teacher-tokenizers.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";

const FIELD = "body.config.distillation.teacherLogits.artifactId";

/** What a run would read an artifact with: the run config's fields the launch compares. */
export interface TeacherLogitsUse {
  datasetVersionId: string;
  template: string;
  systemPrompt?: string | null;
  maxSeqLength: number;
  topK?: number | null;
  specialTokens: string[];
}

/** Why a run may not read an artifact: the launch's 422 message and the field it lands on. */
export interface TeacherLogitsRefusal {
  reason: string;
  field: string;
}

export interface TeacherLogitsArtifactFacts {
  id: string;
  versionId: string;
  status: string;
  template: string;
  systemPrompt: string | null;
  maxSeqLength: number;
  k: number;
  teacherName: string;
}

/** where an artifact's tokenizer.json lives, in the shape readModelTokenizer reads */
export const teacherLogitsLocation = (id: string) => `blob:teacher-logits/${id}`;

export const teacherLogitsUseOf = (config: RunConfig): TeacherLogitsUse => ({
  datasetVersionId: config.data.datasetVersionId,
  template: config.data.template,
  systemPrompt: config.data.systemPrompt ?? null,
  maxSeqLength: config.training.maxSeqLength,
  topK: config.distillation.topK ?? null,
  specialTokens: config.specialTokens,
});

/**
 * The first reason a run (`use`) may not read the artifact, from the row alone: another dataset
 * version, not ready, another rendering (template, system prompt), shorter sequences, fewer
 * tokens kept than the run's top-k. Both the launch and the run form's artifact picker ask this.
 */
export function teacherLogitsSettingsRefusal(
  artifact: TeacherLogitsArtifactFacts,
  use: TeacherLogitsUse,
): TeacherLogitsRefusal | null {
  const id = artifact.id;
  if (artifact.versionId !== use.datasetVersionId)
    return {
      reason: `teacher logits ${id} belong to dataset version ${artifact.versionId}, the run trains on ${use.datasetVersionId}`,
      field: FIELD,
    };
  if (artifact.status !== "ready")
    return { reason: `teacher logits ${id} are ${artifact.status}, not ready`, field: FIELD };
  if (artifact.template !== use.template)
    return {
      reason: `teacher logits ${id} were rendered with the ${artifact.template} template, the run uses ${use.template}`,
      field: "body.config.data.template",
    };
  if ((artifact.systemPrompt ?? "") !== (use.systemPrompt ?? ""))
    return {
      reason: `teacher logits ${id} were rendered with another system prompt than the run's`,
      field: "body.config.data.systemPrompt",
    };
  if (use.maxSeqLength > artifact.maxSeqLength)
    return {
      reason: `teacher logits ${id} cover sequences up to ${artifact.maxSeqLength} tokens, the run trains on ${use.maxSeqLength}`,
      field: "body.config.training.maxSeqLength",
    };
  if (use.topK != null && use.topK > artifact.k)
    return {
      reason: `top-${use.topK} asked, the stored teacher logits keep ${artifact.k} tokens`,
      field: "body.config.distillation.topK",
    };
  return null;
}

/**
 * The student's and the artifact's vocabularies (id → token) compared as the launch does, the
 * run's special tokens appended to the student's. A student the studio does not hold is not
 * compared (the engine checks when it loads it); a missing artifact tokenizer is a refusal.
 */
export function teacherLogitsTokenizerRefusal(
  artifact: Pick<TeacherLogitsArtifactFacts, "id" | "teacherName">,
  use: Pick<TeacherLogitsUse, "specialTokens">,
  student: { name: string; vocab: string[] | null },
  artifactVocab: string[] | null,
): TeacherLogitsRefusal | null {
  if (!artifactVocab)
    return {
      reason: `teacher logits ${artifact.id}: their tokenizer.json is missing from storage`,
      field: FIELD,
    };
  if (!student.vocab) return null;
  const d = firstTokenizerDifference(
    asTokenizerJson(student.vocab),
    asTokenizerJson(artifactVocab),
    use.specialTokens,
  );
  return d
    ? {
        reason: `teacher logits ${artifact.id}: ${describeTokenizerDifference(d, { student: student.name, teacher: artifact.teacherName })}`,
        field: FIELD,
      }
    : null;
}

/** an id → token list in the tokenizer.json shape idToTokenOf reads back unchanged */
const asTokenizerJson = (vocab: string[]) => ({
  model: { vocab: vocab.map((t, id) => [t, id] as [string, number]) },
});

const vocabOf = async (location: string | null) => {
  const json = await readModelTokenizer(location);
  return json ? idToTokenOf(json) : null;
};

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
  const refuse = ({ reason, field }: TeacherLogitsRefusal): never => {
    throw new AppError("unprocessable", reason, [{ field, message: reason }]);
  };
  const { db } = getContext();
  const artifact = await db.teacherLogits.findFirst({ where: { id: ref.artifactId, workspaceId } });
  if (!artifact)
    return refuse({
      reason: `teacher logits ${ref.artifactId} do not exist in this workspace`,
      field: FIELD,
    });
  const use = teacherLogitsUseOf(config);
  const settings = teacherLogitsSettingsRefusal(artifact, use);
  if (settings) refuse(settings);
  const student = studentModelId
    ? await db.model.findFirst({
        where: { id: studentModelId, workspaceId },
        select: { name: true, location: true },
      })
    : null;
  const [studentVocab, artifactVocab] = await Promise.all([
    vocabOf(student?.location ?? null),
    vocabOf(teacherLogitsLocation(artifact.id)),
  ]);
  const tokenizer = teacherLogitsTokenizerRefusal(
    artifact,
    use,
    { name: student?.name ?? config.model.id, vocab: studentVocab },
    artifactVocab,
  );
  if (tokenizer) refuse(tokenizer);
}
