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
  const field = "body.config.distillation.teacherEndpoint.teacherId";
  const refuse = (reason: string): never => {
    throw new AppError("unprocessable", reason, [{ field, message: reason }]);
  };
  const { db } = getContext();
  const endpoint = await loadTeacherEndpoint(db, getTeacherSecretKey(), workspaceId, ref.teacherId);
  if (!endpoint) return refuse(`teacher endpoint ${ref.teacherId} does not exist in this workspace`);
  if (endpoint.api !== "openai")
    return refuse(
      `teacher endpoint "${endpoint.name}" speaks ollama's /api/chat, which returns no prompt_logprobs: logit and on-policy distillation need an OpenAI-compatible server that does (vLLM)`,
    );
  const student = studentId
    ? await db.model.findUnique({ where: { id: studentId }, select: { name: true, location: true } })
    : null;
  const json = student ? await readModelTokenizer(student.location) : null;
  if (!student || !json)
    return refuse(
      `the student's tokenizer is not held by the studio, so it cannot be compared with teacher endpoint "${endpoint.name}"'s`,
    );
  const { tokenizer } = addSpecialTokens(
    createTokenizer(json as Record<string, unknown>),
    config.specialTokens,
  );
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
}
