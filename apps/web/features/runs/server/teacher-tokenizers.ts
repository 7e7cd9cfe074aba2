import "server-only";
import { describeTokenizerDifference, firstTokenizerDifference, idToTokenOf } from "@distillery/core";
import { getContext } from "@/lib/server/context.ts";

/** a model's tokenizer.json from blob storage, or null when the studio does not hold it */
export async function readModelTokenizer(location: string | null): Promise<unknown | null> {
  if (!location?.startsWith("blob:")) return null;
  const key = `${location.slice("blob:".length).replace(/\/+$/, "")}/tokenizer.json`;
  const { store } = getContext();
  if (!(await store.exists(key))) return null;
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

/**
 * Each id's token, per model location: a model's files do not change under its location, and a
 * tokenizer.json runs to megabytes (merges included), so the picker does not parse it on every
 * change of the student. A few entries: the models one person compares at a time.
 */
const vocabCache = new Map<string, string[] | null>();
const VOCAB_CACHE_SIZE = 16;

export async function readVocab(location: string | null): Promise<string[] | null> {
  if (!location) return null;
  if (vocabCache.has(location)) return vocabCache.get(location) ?? null;
  const json = await readModelTokenizer(location);
  const vocab = json ? idToTokenOf(json) : null;
  vocabCache.set(location, vocab);
  if (vocabCache.size > VOCAB_CACHE_SIZE) vocabCache.delete(vocabCache.keys().next().value as string);
  return vocab;
}

export type TokenizerMatch =
  | { tokenizer: "same" }
  | { tokenizer: "different"; reason: string }
  | { tokenizer: "unknown"; reason: string };

/**
 * Whether each model of the workspace could teach the student id by id (logit and on-policy
 * distillation): the same check the launch makes (firstTokenizerDifference with the run's
 * special tokens), run ahead so the teacher picker can say it before anything is sent.
 */
export async function checkTeacherTokenizers(
  workspaceId: string,
  studentRef: string,
  specialTokens: string[],
): Promise<{ student: string | null; teachers: Record<string, TokenizerMatch> }> {
  const { db } = getContext();
  const student = await db.model.findFirst({
    where: { workspaceId, OR: [{ id: studentRef }, { name: studentRef }, { hubId: studentRef }] },
    select: { id: true, name: true, location: true },
  });
  const models = await db.model.findMany({
    where: { workspaceId },
    select: { id: true, name: true, location: true },
    orderBy: { createdAt: "desc" },
    take: 200,
  });
  const teachers: Record<string, TokenizerMatch> = {};
  const studentVocab = student ? await readVocab(student.location) : null;
  for (const m of models) {
    if (!student || !studentVocab) {
      teachers[m.id] = {
        tokenizer: "unknown",
        reason: student
          ? `the studio does not hold ${student.name}'s tokenizer.json: the engine compares them when it loads both`
          : "pick a student from the catalog to compare tokenizers",
      };
      continue;
    }
    const vocab = await readVocab(m.location);
    if (!vocab) {
      teachers[m.id] = {
        tokenizer: "unknown",
        reason: `the studio does not hold ${m.name}'s tokenizer.json: the engine compares them when it loads both`,
      };
      continue;
    }
    // the vocabularies as token lists, through the same comparison the launch runs
    const d = firstTokenizerDifference(asTokenizerJson(studentVocab), asTokenizerJson(vocab), specialTokens);
    teachers[m.id] = d
      ? {
          tokenizer: "different",
          reason: describeTokenizerDifference(d, { student: student.name, teacher: m.name }),
        }
      : { tokenizer: "same" };
  }
  return { student: student?.id ?? null, teachers };
}

/** an id → token list in the tokenizer.json shape idToTokenOf reads back unchanged */
const asTokenizerJson = (vocab: string[]) => ({
  model: { vocab: vocab.map((t, id) => [t, id] as [string, number]) },
});
