import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { listFilesUnder } from "../inspect-model-dir.ts";

/**
 * A local HTTP server that serves the Hugging Face Hub's model routes, for tests (unit and
 * Playwright) on machines that cannot reach the Hub:
 *
 *   GET /api/models/{owner}/{name}/revision/{rev}      {id, sha, siblings}
 *   GET /api/models/{owner}/{name}/tree/{rev}?recursive=true   paged, Link: rel="next"
 *   GET /{owner}/{name}/resolve/{rev}/{path}          git files: 200 + ETag (git sha1);
 *                                                      LFS files: 302 to /cdn/{sha256}, with
 *                                                      X-Linked-Etag / X-Linked-Size / X-Repo-Commit
 *   GET /cdn/{sha256}                                 the bytes, with Range support (206)
 *
 * Files over `lfsThreshold` bytes (and every .safetensors) are LFS files. `dropOnce` makes the
 * first download of a file end after that many bytes by destroying the socket, as a flaky network
 * does; `requests` records what clients sent (without the token).
 */
export interface HubTestRepo {
  files: Record<string, Buffer>;
  /** when set, requests need `Authorization: Bearer <token>` */
  token?: string;
}

export interface HubTestServer {
  url: string;
  requests: { method: string; path: string; range: string | null; hasAuth: boolean }[];
  /** the next download of `path` in `repo` stops after `bytes` bytes */
  dropOnce(repo: string, path: string, bytes: number): void;
  /** serve corrupted bytes for a file (checksum tests) */
  corrupt(repo: string, path: string): void;
  close(): Promise<void>;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const gitSha1 = (b: Buffer) => createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

/** A repo's files from a folder on disk (e.g. a model written by engine-local's createTinyModel). */
export function repoFromDir(dir: string, token?: string): HubTestRepo {
  const files: Record<string, Buffer> = {};
  for (const rel of listFilesUnder(dir)) files[rel] = readFileSync(join(dir, ...rel.split("/")));
  return { files, ...(token ? { token } : {}) };
}

/** A safetensors file holding zero-filled tensors of the given shapes (a real header). */
export function encodeSafetensors(
  tensors: Record<string, { dtype: "F32" | "BF16" | "F16"; shape: number[] }>,
): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * (t.dtype === "F32" ? 4 : 2);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += " ";
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const data = Buffer.alloc(offset);
  for (let i = 0; i < offset; i++) data[i] = (i * 31) & 0xff;
  return Buffer.concat([len, Buffer.from(json), data]);
}

export async function startHubTestServer(
  repos: Record<string, HubTestRepo>,
  options: { pageSize?: number; lfsThreshold?: number; port?: number } = {},
): Promise<HubTestServer> {
  const pageSize = options.pageSize ?? 50;
  const lfsThreshold = options.lfsThreshold ?? 10_000;
  const requests: HubTestServer["requests"] = [];
  const drops = new Map<string, number>();
  const corrupted = new Set<string>();
  const isLfs = (path: string, b: Buffer) => path.endsWith(".safetensors") || b.length > lfsThreshold;

  const sendBytes = (
    req: IncomingMessage,
    res: ServerResponse,
    key: string,
    body: Buffer,
    headers: Record<string, string>,
  ) => {
    const served = corrupted.has(key) ? Buffer.from(body.map((b) => b ^ 0xff)) : body;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    let start = 0;
    if (range) {
      start = Number(range[1]);
      if (start >= served.length) {
        res.writeHead(416, { "content-range": `bytes */${served.length}` }).end();
        return;
      }
    }
    const chunk = served.subarray(start);
    res.writeHead(range ? 206 : 200, {
      ...headers,
      "content-type": "application/octet-stream",
      "content-length": String(chunk.length),
      "accept-ranges": "bytes",
      ...(range ? { "content-range": `bytes ${start}-${served.length - 1}/${served.length}` } : {}),
    });
    const drop = drops.get(key);
    if (drop !== undefined && drop < chunk.length) {
      drops.delete(key);
      res.write(chunk.subarray(0, drop), () => {
        // as a dropped connection: the client sees the body end early with an error
        setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    res.end(chunk);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = decodeURIComponent(url.pathname);
    requests.push({
      method: req.method ?? "GET",
      path: url.pathname + url.search,
      range: req.headers.range ?? null,
      hasAuth: Boolean(req.headers.authorization),
    });
    const authorize = (repo: string) => {
      const token = repos[repo]?.token;
      if (token && req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401, { "content-type": "application/json" }).end('{"error":"Invalid credentials"}');
        return false;
      }
      return true;
    };
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(tree|revision)\/([^/]+)\/?(.*)$/.exec(path);
    if (api) {
      const [, repo = "", route, , sub = ""] = api;
      if (!repos[repo])
        return void res
          .writeHead(404, { "content-type": "application/json" })
          .end('{"error":"Repository not found"}');
      if (!authorize(repo)) return;
      const files = Object.entries(repos[repo].files)
        .filter(([p]) => p.startsWith(sub))
        .sort(([a], [b]) => a.localeCompare(b));
      if (route === "revision")
        return void res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ id: repo, sha: COMMIT, siblings: files.map(([p]) => ({ rfilename: p })) }));
      const cursor = Number(url.searchParams.get("cursor") ?? 0);
      const page = files.slice(cursor, cursor + pageSize).map(([p, b]) => ({
        type: "file",
        path: p,
        size: b.length,
        oid: gitSha1(b),
        ...(isLfs(p, b) ? { lfs: { oid: sha256(b), size: b.length, pointerSize: 134 } } : {}),
      }));
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (cursor + pageSize < files.length) {
        const next = new URL(url);
        next.searchParams.set("cursor", String(cursor + pageSize));
        headers.link = `<${next.pathname}${next.search}>; rel="next"`;
      }
      return void res.writeHead(200, headers).end(JSON.stringify(page));
    }
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
    if (cdn) {
      const repo = url.searchParams.get("r") ?? "";
      const file = url.searchParams.get("p") ?? "";
      const body = repos[repo]?.files[file];
      if (!body || sha256(body) !== cdn[1]) return void res.writeHead(404).end();
      return sendBytes(req, res, `${repo}/${file}`, body, { etag: `"${cdn[1]}"` });
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolve) {
      const [, repo = "", , file = ""] = resolve;
      const body = repos[repo]?.files[file];
      if (!repos[repo]) return void res.writeHead(404).end("Repository not found");
      if (!authorize(repo)) return;
      if (!body) return void res.writeHead(404, { "x-error-code": "EntryNotFound" }).end("Entry not found");
      if (isLfs(file, body)) {
        return void res
          .writeHead(302, {
            location: `/cdn/${sha256(body)}?r=${encodeURIComponent(repo)}&p=${encodeURIComponent(file)}`,
            "x-linked-etag": `"${sha256(body)}"`,
            "x-linked-size": String(body.length),
            "x-repo-commit": COMMIT,
          })
          .end();
      }
      return sendBytes(req, res, `${repo}/${file}`, body, {
        etag: `"${gitSha1(body)}"`,
        "x-repo-commit": COMMIT,
      });
    }
    res.writeHead(404).end("not a Hub route");
  });
  await new Promise<void>((r) => server.listen(options.port ?? 0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    dropOnce: (repo, path, bytes) => drops.set(`${repo}/${path}`, bytes),
    corrupt: (repo, path) => corrupted.add(`${repo}/${path}`),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
