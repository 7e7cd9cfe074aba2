/** An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`. */
export class OpenAiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = status === 401
      ? "authentication_error"
      : status === 403
        ? "permission_error"
        : status >= 500
          ? "server_error"
          : "invalid_request_error",
  ) {
    super(message);
    this.name = "OpenAiError";
  }

  toJSON() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  toResponse(): Response {
    return Response.json(this.toJSON(), { status: this.status });
  }
}

/** zod issues → one OpenAiError naming the first bad field (`messages[0].role`). */
export function openAiErrorFromZod(issues: { path: PropertyKey[]; message: string }[]): OpenAiError {
  const issue = issues[0];
  const path = (issue?.path ?? [])
    .map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`))
    .join("");
  const param = path || null;
  return new OpenAiError(
    400,
    `${param ? `${param}: ` : ""}${issue?.message ?? "invalid request"}`,
    param,
    "invalid_value",
  );
}
