import "server-only";
import type { RunConfig } from "@distillery/core";
import { addSpecialTokens, createTokenizer } from "@distillery/engine-local/tokenizer";
import {
  compareEndpointTokenizer,
  describeEndpointTokenizerDifference,
  isTeacherError,
} from "@distillery/teacher";
import { loadTeacherEndpoint } from "@distillery/teacher/store";
import { getTeacherSecretKey } from "@/features/teachers/server/teacher-secret-key.ts";
import { AppError } from "@/lib/server/app-error.ts";
import { getContext } from "@/lib/server/context.ts";
import { readModelTokenizer } from "./teacher-tokenizers.ts";

/**
 * Logit and on-policy runs whose teacher is an endpoint (distillation.teacherEndpoint): the
 * endpoint must be a teacher of this workspace speaking the OpenAI protocol (both engines ask
 * it: engine-local and trainer-hf), and the endpoint must share the
 * student's tokenizer — asked through its /tokenize (vLLM's) on a probe text, the run's special
 * tokens added to the student as the engine adds them. Refused before queueing, naming both
 * tokenizers and the first differing token; an endpoint that cannot say is refused too.
 */
export async function checkEndpointTeacher(
  workspaceId: string,
  config: RunConfig,
  studentId: string | null,
): Promise<void> {
  const ref = config.distillation.teacherEndpoint;
  if (!ref || config.distillation.mode === "sft" || config.distillation.teacherLogits) return;
  const student = studentId
    ? await getContext().db.model.findUnique({
        where: { id: studentId },
        select: { name: true, location: true },
      })
    : null;
  await checkEndpointSharesTokenizer({
    workspaceId,
    teacherId: ref.teacherId,
    model: student,
    role: "student",
    specialTokens: config.specialTokens,
    field: "body.config.distillation.teacherEndpoint.teacherId",
  });
}

/**
 * The endpoint part of the check, shared by the run launch and the stored teacher-logits artifact
 * (whose rows are tokenized with `model`'s tokenizer and scored by the endpoint): a teacher of
 * this workspace speaking the OpenAI protocol, whose /tokenize agrees with `model`'s tokenizer
 * (special tokens added as the engine adds them). Refused as a 422 at `field`, naming both
 * tokenizers and the first differing token. Returns the endpoint (its key stays inside).
 */
export async function checkEndpointSharesTokenizer(input: {
  workspaceId: string;
  teacherId: string;
  model: { name: string; location: string | null } | null;
  /** how the refusal names the model: "student" (a run) or "tokenizer model" (an artifact) */
  role: string;
  specialTokens: readonly string[];
  field: string;
}): Promise<{ id: string; name: string; model: string }> {
  const { field } = input;
  const refuse = (reason: string): never => {
    throw new AppError("unprocessable", reason, [{ field, message: reason }]);
  };
  const { db } = getContext();
  const endpoint = await loadTeacherEndpoint(db, getTeacherSecretKey(), input.workspaceId, input.teacherId);
  if (!endpoint) return refuse(`teacher endpoint ${input.teacherId} does not exist in this workspace`);
  if (endpoint.api !== "openai")
    return refuse(
      `teacher endpoint "${endpoint.name}" speaks ollama's /api/chat, which returns no prompt_logprobs: logit and on-policy distillation need an OpenAI-compatible server that does (vLLM)`,
    );
  const student = input.model;
  const json = student ? await readModelTokenizer(student.location) : null;
  if (!student || !json)
    return refuse(
      `the ${input.role}'s tokenizer is not held by the studio, so it cannot be compared with teacher endpoint "${endpoint.name}"'s`,
    );
  const { tokenizer } = addSpecialTokens(createTokenizer(json as Record<string, unknown>), [
    ...input.specialTokens,
  ]);
  let difference: Awaited<ReturnType<typeof compareEndpointTokenizer>>;
  try {
    difference = await compareEndpointTokenizer(endpoint, tokenizer, { timeoutMs: 30_000 });
  } catch (e) {
    // TeacherError messages name the teacher and never carry the key
    return refuse(isTeacherError(e) ? e.message : `teacher endpoint "${endpoint.name}" could not be asked`);
  }
  if (difference)
    refuse(
      describeEndpointTokenizerDifference(difference, {
        student: student.name,
        teacher: `endpoint "${endpoint.name}", model ${endpoint.model}`,
      }),
    );
  return { id: input.teacherId, name: endpoint.name, model: endpoint.model };
}
