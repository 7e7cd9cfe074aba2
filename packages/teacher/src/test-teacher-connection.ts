import { listTeacherModels } from "./list-models.ts";
import type { ReasoningSource } from "./normalize-completion.ts";
import { requestCompletion } from "./request-completion.ts";
import { type TeacherEndpoint, ZSampling } from "./teacher-endpoint.ts";
import { isTeacherError } from "./teacher-error.ts";

export interface ConnectionReport {
  isOk: boolean;
  models: string[];
  /** the configured model is among the listed ones (null: the list could not be read) */
  hasModel: boolean | null;
  latencyMs: number | null;
  firstByteMs: number | null;
  reasoningSource: ReasoningSource | null;
  /** the teacher's short answer, shortened (untrusted text: render as text) */
  sample: { reasoning: string | null; answer: string } | null;
  usage: { promptTokens: number; completionTokens: number } | null;
  /** what went wrong, naming the teacher; never the key */
  error: string | null;
  errorKind: string | null;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

/**
 * "Test connection": list the models, send one short streamed request, time it and say where
 * the reasoning came back. Errors are reported, not thrown.
 */
export async function testTeacherConnection(
  endpoint: TeacherEndpoint,
  options: { timeoutMs?: number; prompt?: string } = {},
): Promise<ConnectionReport> {
  const report: ConnectionReport = {
    isOk: false,
    models: [],
    hasModel: null,
    latencyMs: null,
    firstByteMs: null,
    reasoningSource: null,
    sample: null,
    usage: null,
    error: null,
    errorKind: null,
  };
  try {
    report.models = await listTeacherModels(endpoint, { timeoutMs: options.timeoutMs ?? 10_000 });
    report.hasModel = report.models.includes(endpoint.model);
    const c = await requestCompletion(
      endpoint,
      [{ role: "user", content: options.prompt ?? "What is 2 + 3? Answer briefly." }],
      ZSampling.parse({ maxTokens: 256 }),
      { stream: true, idleTimeoutMs: options.timeoutMs ?? 30_000 },
    );
    report.latencyMs = Math.round(c.latencyMs);
    report.firstByteMs = Math.round(c.firstByteMs);
    report.reasoningSource = c.reasoningSource;
    report.sample = {
      reasoning: c.reasoning === null ? null : clip(c.reasoning, 500),
      answer: clip(c.answer, 500),
    };
    report.usage = { promptTokens: c.usage.promptTokens, completionTokens: c.usage.completionTokens };
    report.isOk = true;
  } catch (e) {
    report.error = isTeacherError(e) ? e.message : `teacher "${endpoint.name}": ${(e as Error).message}`;
    report.errorKind = isTeacherError(e) ? e.kind : "unknown";
  }
  return report;
}
