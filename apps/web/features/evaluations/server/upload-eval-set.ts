import "server-only";
import { createDatasetVersion, ensureDataset } from "@distillery/catalog";
import { type CanonicalExample, extractFinalAnswer } from "@distillery/core";
import { PromptInputError, parsePromptFile, selectPrompts } from "@distillery/teacher";
import { z } from "zod";
import { AppError, getContext } from "@/lib/server/route.ts";

export const ZUploadEvalSet = z.object({
  /** the file's text: JSONL, a JSON array of objects, CSV or TSV with a header */
  text: z.string().min(1, "the file is empty").max(20_000_000, "at most 20 MB"),
  fileName: z.string().trim().min(1).max(200).optional(),
  /** omitted: the first of prompt / question / problem / input / instruction */
  promptColumn: z.string().trim().min(1).max(200).optional(),
  /** omitted: the first of answer / reference / solution / expected / target / ground_truth / output */
  answerColumn: z.string().trim().min(1).max(200).optional(),
});
export type UploadEvalSetInput = z.infer<typeof ZUploadEvalSet>;

const PROMPT_COLUMNS = ["prompt", "question", "problem", "input", "instruction", "query"];
const ANSWER_COLUMNS = ["answer", "reference", "solution", "expected", "target", "ground_truth", "output"];

const fieldError = (field: string, message: string) =>
  new AppError("validation_failed", `${field}: ${message}`, [{ field, message }]);

/** A worked solution's final answer (`\boxed{…}`, "The answer is …"); a short answer as it is. */
export function referenceOf(answer: string): string {
  const text = answer.trim();
  if (/\\boxed|answer is/i.test(text)) return extractFinalAnswer(text) ?? text;
  return text;
}

function pickColumn(
  columns: string[],
  wanted: string | undefined,
  names: string[],
  field: string,
  what: string,
) {
  if (wanted) return wanted; // selectPrompts names a column that does not exist
  const found = names.map((n) => columns.find((c) => c.toLowerCase() === n)).find(Boolean);
  if (!found)
    throw fieldError(
      field,
      `no ${what} column (looked for ${names.join(", ")}; the file has ${columns.map((c) => `"${c}"`).join(", ")})`,
    );
  return found;
}

/**
 * An uploaded prompt/answer file as an eval set: a dataset version (dataset "eval set · <file>")
 * whose rows carry the prompt as the user message and the reference answer, so an evaluation
 * reads it like any test split. Every row needs a reference (an eval set scores answers).
 */
export async function uploadEvalSet(
  actor: { workspaceId: string; userId: string },
  input: UploadEvalSetInput,
) {
  const { db, store } = getContext();
  let prompts: { prompt: string; reference?: string | null }[];
  let skipped: number;
  let format: string;
  try {
    const table = parsePromptFile(input.text, {
      field: "body.text",
      ...(input.fileName ? { fileName: input.fileName } : {}),
    });
    if (table.format === "lines")
      throw fieldError("body.text", "a plain list of prompts has no answers: upload JSONL, JSON, CSV or TSV");
    format = table.format;
    const promptColumn = pickColumn(
      table.columns,
      input.promptColumn,
      PROMPT_COLUMNS,
      "body.promptColumn",
      "prompt",
    );
    const answerColumn = pickColumn(
      table.columns,
      input.answerColumn,
      ANSWER_COLUMNS,
      "body.answerColumn",
      "answer",
    );
    ({ prompts, skipped } = selectPrompts(
      table,
      { prompt: promptColumn, reference: answerColumn },
      { prompt: "body.promptColumn", reference: "body.answerColumn" },
    ));
  } catch (e) {
    if (e instanceof PromptInputError) throw fieldError(e.field, e.message);
    throw e;
  }
  const rows: CanonicalExample[] = [];
  prompts.forEach((p, i) => {
    if (!p.reference)
      throw fieldError(
        "body.answerColumn",
        `row ${i + 1 + skipped} has a prompt but no answer (an eval set needs both)`,
      );
    rows.push({
      messages: [{ role: "user", content: p.prompt }],
      reasoning: null,
      answer: p.reference,
      reference: referenceOf(p.reference),
      think: "missing",
    });
  });
  const fileName = input.fileName ?? "uploaded file";
  const dataset = await ensureDataset(db, {
    workspaceId: actor.workspaceId,
    name: `eval set · ${fileName}`.slice(0, 200),
    description: "an uploaded prompt/answer file, for evaluations",
    ...(actor.userId ? { createdById: actor.userId } : {}),
  });
  const version = await createDatasetVersion(db, store, {
    workspaceId: actor.workspaceId,
    datasetId: dataset.id,
    operation: { kind: "eval-set-upload", fileName, format, skipped },
    write: async (sink) => {
      for (let i = 0; i < rows.length; i += 1000) await sink.write(rows.slice(i, i + 1000));
      return {};
    },
  });
  return {
    versionId: version.id,
    datasetId: dataset.id,
    label: `${dataset.name} v${version.version}`,
    rows: rows.length,
    skipped,
  };
}
