/** The client's view of a problem+json error. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: { field: string; message: string }[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
  /** the message for one field, e.g. "body.message" */
  fieldError(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.message;
  }
}

export async function fetchJson<T>(input: string, init?: RequestInit): Promise<T> {
  const res = await fetch(input, {
    ...init,
    headers: {
      accept: "application/json",
      ...(init?.body ? { "content-type": "application/json" } : {}),
      ...init?.headers,
    },
  });
  if (!res.ok) {
    const problem = (await res.json().catch(() => ({}))) as {
      code?: string;
      detail?: string;
      errors?: { field: string; message: string }[];
    };
    throw new ApiError(
      res.status,
      problem.code ?? "unknown",
      problem.detail ?? res.statusText,
      problem.errors ?? [],
    );
  }
  return (await res.json()) as T;
}
