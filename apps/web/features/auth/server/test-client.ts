/**
 * For route tests: calls route handlers in-process as a browser would (a cookie jar, an Origin
 * and Host header), or as a script with a Bearer token.
 */
export type Handler = (req: Request, ctx?: { params: Promise<Record<string, string>> }) => Promise<Response>;

export const ORIGIN = "http://localhost:3000";

export class TestBrowser {
  cookies = new Map<string, string>();
  constructor(readonly bearer?: string) {}

  async call(
    handler: Handler,
    path: string,
    opts: {
      method?: string;
      body?: unknown;
      params?: Record<string, string>;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    } = {},
  ): Promise<Response> {
    const method = opts.method ?? (opts.body === undefined ? "GET" : "POST");
    const headers = new Headers({ host: "localhost:3000", origin: ORIGIN, ...opts.headers });
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    if (this.bearer) headers.set("authorization", `Bearer ${this.bearer}`);
    if (opts.body !== undefined) headers.set("content-type", "application/json");
    const req = new Request(`${ORIGIN}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
    const res = await handler(req, { params: Promise.resolve(opts.params ?? {}) });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair?.indexOf("=") ?? -1;
      if (!pair || i < 0) continue;
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (value === "" || /max-age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
}
