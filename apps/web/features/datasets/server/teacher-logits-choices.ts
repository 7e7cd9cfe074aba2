import "server-only";
import { z } from "zod";
import { readVocab } from "@/features/runs/server/teacher-tokenizers.ts";
import { getContext } from "@/lib/server/context.ts";
import type { Actor } from "@/lib/server/with-route.ts";
import { type TeacherLogitsView, toView } from "./teacher-logits.ts";
import {
  type TeacherLogitsRefusal,
  teacherLogitsLocation,
  teacherLogitsSettingsRefusal,
  teacherLogitsTokenizerRefusal,
} from "./teacher-logits-launch.ts";

/** POST /api/runs/teacher-logits-choices: the run form's current draft, as the launch reads it. */
export const ZTeacherLogitsChoicesRequest = z.object({
  datasetVersionId: z.string().max(200).default(""),
  /** the student as the run config names it (catalog id, name or Hub id) */
  student: z.string().max(500).default(""),
  template: z.string().min(1).max(100),
  systemPrompt: z.string().max(20_000).nullish(),
  maxSeqLength: z.number().int().min(1),
  topK: z.number().int().nullish(),
  specialTokens: z.array(z.string().max(200)).max(200).default([]),
});
export type TeacherLogitsChoicesRequest = z.input<typeof ZTeacherLogitsChoicesRequest>;

export interface TeacherLogitsChoice extends TeacherLogitsView {
  /** why the launch would refuse this artifact for the draft (null: it may be picked) */
  refusal: TeacherLogitsRefusal | null;
}

/**
 * The teacher-logits artifacts a run could read, each with the launch's verdict for the form's
 * draft: the chosen version's first, then the workspace's others (newest first, shown refused
 * with the launch's own words). Tokenizers are compared by vocabulary through the same check
 * the launch runs; vocabularies are cached by location (an artifact's files never change).
 */
export async function listTeacherLogitsChoices(
  actor: Actor,
  draft: z.infer<typeof ZTeacherLogitsChoicesRequest>,
): Promise<{ artifacts: TeacherLogitsChoice[] }> {
  const { db } = getContext();
  const [rows, student] = await Promise.all([
    db.teacherLogits.findMany({
      where: { workspaceId: actor.workspaceId },
      orderBy: { createdAt: "desc" },
      take: 100,
    }),
    draft.student
      ? db.model.findFirst({
          where: {
            workspaceId: actor.workspaceId,
            OR: [{ id: draft.student }, { name: draft.student }, { hubId: draft.student }],
          },
          select: { name: true, location: true },
        })
      : null,
  ]);
  const studentVocab = student ? await readVocab(student.location) : null;
  const use = { ...draft, systemPrompt: draft.systemPrompt ?? null, topK: draft.topK ?? null };
  const ordered = [
    ...rows.filter((r) => r.versionId === draft.datasetVersionId),
    ...rows.filter((r) => r.versionId !== draft.datasetVersionId),
  ];
  const artifacts: TeacherLogitsChoice[] = [];
  for (const row of ordered) {
    const refusal = !draft.datasetVersionId
      ? {
          reason: `pick the run's dataset version first (these teacher logits belong to ${row.versionId})`,
          field: "body.config.data.datasetVersionId",
        }
      : (teacherLogitsSettingsRefusal(row, use) ??
        teacherLogitsTokenizerRefusal(
          row,
          use,
          { name: student?.name ?? draft.student, vocab: studentVocab },
          await readVocab(teacherLogitsLocation(row.id)),
        ));
    artifacts.push({ ...toView(row), refusal });
  }
  return { artifacts };
}
