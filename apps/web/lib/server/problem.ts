import type { AppError, FieldError } from "./app-error.ts";

/** RFC 9457 problem details: every error a route returns has this shape. */
export function problemResponse(error: AppError, instance?: string): Response {
  const body = {
    type: `https://distillery.dev/problems/${error.code.replaceAll("_", "-")}`,
    title: error.code.replaceAll("_", " "),
    status: error.status,
    detail: error.message,
    code: error.code,
    ...(instance ? { instance } : {}),
    ...(error.errors.length > 0 ? { errors: error.errors } : {}),
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { "content-type": "application/problem+json" },
  });
}

export function fieldErrorsFromZod(
  part: string,
  issues: { path: PropertyKey[]; message: string }[],
): FieldError[] {
  return issues.map((i) => ({
    field: [part, ...i.path.map(String)].join("."),
    message: i.message,
  }));
}
