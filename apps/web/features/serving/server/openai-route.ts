import "server-only";
import { OpenAiError } from "@distillery/inference";

type Route = ((
  req: Request,
  context?: { params?: Promise<Record<string, string | string[]>> },
) => Promise<Response>) & {
  definition: unknown;
};

/**
 * OpenAI clients read `{"error": {...}}`, not problem+json: the failures withRoute itself
 * answers (not signed in, no permission, bad token) are turned into OpenAI error objects.
 */
export function withOpenAiErrors<R extends Route>(route: R): R {
  const wrapped = async (req: Request, context?: { params?: Promise<Record<string, string | string[]>> }) => {
    const res = await route(req, context);
    if (!res.headers.get("content-type")?.includes("application/problem+json")) return res;
    const problem = (await res.json()) as { detail?: string; code?: string; errors?: { field: string }[] };
    const field = problem.errors?.[0]?.field?.replace(/^body\./, "") ?? null;
    return new OpenAiError(
      res.status,
      problem.detail ?? "request failed",
      field,
      problem.code ?? null,
    ).toResponse();
  };
  return Object.assign(wrapped, { definition: route.definition }) as unknown as R;
}
