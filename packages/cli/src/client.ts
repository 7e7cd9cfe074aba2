import type { CliConfig } from "./config.ts";
import { CliError, EXIT, exitCodeForStatus } from "./exit-codes.ts";

interface Problem {
  detail?: string;
  title?: string;
  message?: string;
  errors?: { field: string; message: string }[];
}

/** The studio's REST API with a Bearer token; problem+json errors become CliErrors with an exit code. */
export class StudioClient {
  constructor(readonly config: CliConfig) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.config.url}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${this.config.token}`,
          accept: "application/json",
          ...init.headers,
        },
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach ${this.config.url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
        EXIT.unreachable,
      );
    }
    if (!res.ok) {
      const problem = (await res.json().catch(() => ({}))) as Problem;
      const detail = problem.detail ?? problem.message ?? problem.title ?? res.statusText;
      throw new CliError(`${res.status}: ${detail}`, exitCodeForStatus(res.status), problem.errors ?? []);
    }
    return res;
  }

  async json<T>(path: string, init: RequestInit & { body?: string } = {}): Promise<T> {
    const res = await this.request(path, {
      ...init,
      headers: { ...(init.body ? { "content-type": "application/json" } : {}), ...init.headers },
    });
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }
}
