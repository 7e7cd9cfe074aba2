import { checkTeacherHost } from "./teacher-address.ts";
import { endpointUrl, ollamaRoot, type TeacherEndpoint } from "./teacher-endpoint.ts";
import { TeacherError } from "./teacher-error.ts";

/**
 * The models a teacher serves: `GET /v1/models` (OpenAI-compatible) or `GET /api/tags` (ollama).
 * An endpoint that answers HTML, nothing, or JSON of another shape is "not a teacher": the
 * error names the teacher and what came back, before any chat request is sent.
 */
export async function listTeacherModels(
  endpoint: Pick<TeacherEndpoint, "name" | "baseUrl" | "api" | "apiKey">,
  options: { timeoutMs?: number } = {},
): Promise<string[]> {
  const name = endpoint.name;
  const url =
    endpoint.api === "ollama"
      ? `${ollamaRoot(endpoint.baseUrl)}/api/tags`
      : endpointUrl(endpoint.baseUrl, "/models");
  let res: Response;
  try {
    await checkTeacherHost(new URL(url).hostname);
  } catch (e) {
    throw new TeacherError("bad_request", `teacher "${name}" refused: ${(e as Error).message}`);
  }
  try {
    res = await fetch(url, {
      headers: endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {},
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      redirect: "error",
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    if (err.name === "TimeoutError")
      throw new TeacherError("timeout", `teacher "${name}" did not answer ${url}`);
    throw new TeacherError(
      "network",
      `teacher "${name}" cannot be reached at ${url}${err.cause?.code ? ` (${err.cause.code})` : ""}`,
    );
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403) {
    throw new TeacherError("auth", `teacher "${name}" rejected the API key (HTTP ${res.status})`, {
      status: res.status,
    });
  }
  if (!res.ok)
    throw new TeacherError(
      res.status >= 500 ? "server" : "bad_request",
      `teacher "${name}" answered HTTP ${res.status} at ${url}`,
      { status: res.status },
    );
  const type = res.headers.get("content-type") ?? "";
  if (type.includes("text/html") || /^\s*</.test(text)) {
    throw new TeacherError(
      "not_a_teacher",
      `teacher "${name}" answered ${url} with an HTML page: is the base URL right (e.g. http://host:8000/v1)?`,
    );
  }
  if (text.trim() === "")
    throw new TeacherError("not_a_teacher", `teacher "${name}" answered ${url} with nothing`);
  let body: { data?: { id?: unknown }[]; models?: { name?: unknown; model?: unknown }[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new TeacherError(
      "not_a_teacher",
      `teacher "${name}" answered ${url} with something that is not JSON`,
    );
  }
  if (Array.isArray(body.data)) return body.data.map((m) => String(m.id ?? "")).filter(Boolean);
  if (Array.isArray(body.models))
    return body.models.map((m) => String(m.name ?? m.model ?? "")).filter(Boolean);
  throw new TeacherError("not_a_teacher", `teacher "${name}" answered ${url} with JSON that lists no models`);
}
