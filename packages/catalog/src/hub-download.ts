import { createHash, type Hash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { HUB_REPO_ID } from "@distillery/core";

/**
 * Downloads a model repository from the Hugging Face Hub (or any server that serves its routes:
 * a mirror, HF_ENDPOINT, the test's local server) into a folder, the way huggingface_hub does:
 *
 * - `GET /api/models/{id}/tree/{rev}?recursive=true` lists files with their size and, for LFS
 *   files, the sha256 of their content (paged by a `Link: <…>; rel="next"` header);
 * - `GET /{id}/resolve/{rev}/{path}` serves each file (LFS files answer with a redirect to a CDN);
 * - each file is written to `<path>.incomplete` and resumed with `Range: bytes=<have>-` after a
 *   dropped connection (or a restarted job), then checked: sha256 for LFS files, the git blob
 *   sha1 for the others, against what the listing said; a mismatch deletes the file and fails.
 *
 * The token (gated repos) goes only in the Authorization header, and fetch drops it on a
 * redirect to another origin; it is never part of an error message.
 */

export interface HubFile {
  path: string;
  size: number;
  /** sha256 of the content (LFS files) */
  sha256?: string;
  /** git blob sha1 (files kept in git) */
  gitSha1?: string;
}

export interface HubDownloadProgress {
  file: string;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface HubDownloadOptions {
  /** e.g. https://huggingface.co (HF_ENDPOINT) */
  endpoint: string;
  repoId: string;
  revision?: string;
  token?: string;
  /** folder the files land in (created); partial files stay there between attempts */
  dir: string;
  /** which files to take; default: weights as safetensors, configs, tokenizer files */
  include?: (path: string) => boolean;
  onProgress?: (p: HubDownloadProgress) => void;
  /** tries per file after a dropped connection (each resumes where the last stopped) */
  maxAttempts?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export class HubDownloadError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "HubDownloadError";
  }
}

const MODEL_FILE = [
  /^config\.json$/,
  /^generation_config\.json$/,
  /(^|\/)[^/]*\.safetensors$/,
  /^model\.safetensors\.index\.json$/,
  /^tokenizer\.json$/,
  /^tokenizer_config\.json$/,
  /^special_tokens_map\.json$/,
  /^added_tokens\.json$/,
  /^vocab\.json$/,
  /^merges\.txt$/,
  /^tokenizer\.model$/,
  /^chat_template\.(jinja|json)$/,
  /^README\.md$/,
  /^LICENSE(\.\w+)?$/,
];

/** The files a training or serving worker needs: no .bin/.pt/.gguf/.onnx duplicates of the weights. */
export function isModelFile(path: string): boolean {
  return MODEL_FILE.some((re) => re.test(path)) && !path.startsWith("onnx/");
}

function encodePath(path: string) {
  return path.split("/").map(encodeURIComponent).join("/");
}

function assertSafePath(path: string) {
  const norm = posix.normalize(path);
  if (norm.startsWith("../") || norm.startsWith("/") || norm === ".." || norm.includes("\0"))
    throw new HubDownloadError(`the Hub listed an unsafe file path: ${JSON.stringify(path)}`);
}

function describeStatus(status: number, what: string, repoId: string): string {
  if (status === 401 || status === 403)
    return `${what}: the Hub refused access to ${repoId} (HTTP ${status}); a gated or private model needs a token with access`;
  if (status === 404)
    return `${what}: ${repoId} was not found on the Hub (HTTP 404); check the id and revision`;
  return `${what}: the Hub answered HTTP ${status}`;
}

/** Lists a repository's files (recursively) with sizes and checksums. */
export async function listHubFiles(options: {
  endpoint: string;
  repoId: string;
  revision?: string;
  token?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}): Promise<HubFile[]> {
  if (!HUB_REPO_ID.test(options.repoId))
    throw new HubDownloadError(`"${options.repoId}" is not a Hub model id (owner/name)`);
  const doFetch = options.fetch ?? fetch;
  const base = options.endpoint.replace(/\/+$/, "");
  const rev = encodeURIComponent(options.revision ?? "main");
  let url: string | null = `${base}/api/models/${options.repoId}/tree/${rev}?recursive=true`;
  const files: HubFile[] = [];
  for (let page = 0; url && page < 1000; page++) {
    const res: Response = await doFetch(url, { headers: authHeaders(options.token), signal: options.signal });
    if (!res.ok)
      throw new HubDownloadError(describeStatus(res.status, "listing files", options.repoId), res.status);
    const entries = (await res.json()) as {
      type: string;
      path: string;
      size?: number;
      oid?: string;
      lfs?: { oid?: string; sha256?: string; size?: number };
    }[];
    if (!Array.isArray(entries)) throw new HubDownloadError("listing files: the Hub's answer is not a list");
    for (const e of entries) {
      if (e.type !== "file") continue;
      assertSafePath(e.path);
      const lfsSha = e.lfs?.oid ?? e.lfs?.sha256;
      files.push({
        path: e.path,
        size: Number(e.lfs?.size ?? e.size ?? 0),
        ...(lfsSha ? { sha256: lfsSha } : e.oid ? { gitSha1: e.oid } : {}),
      });
    }
    const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get("link") ?? "");
    url = next?.[1] ? new URL(next[1], base).toString() : null;
  }
  return files;
}

function authHeaders(token?: string): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** sha256 (LFS) or git blob sha1 of a file on disk, as the listing states them. */
async function checksumFile(path: string, file: HubFile): Promise<string> {
  const hash = createHash(file.sha256 ? "sha256" : "sha1");
  if (!file.sha256) hash.update(`blob ${statSync(path).size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The checksum the listing states, fed as bytes are written (no second read of the file). */
function startHash(file: HubFile) {
  const hash = createHash(file.sha256 ? "sha256" : "sha1");
  if (!file.sha256) hash.update(`blob ${file.size}\0`);
  return hash;
}

/** Size and checksum of a finished download against the listing; the hash saw every byte written. */
function verifyDigest(path: string, file: HubFile, hash: Hash) {
  const size = statSync(path).size;
  if (size !== file.size)
    throw new HubDownloadError(`${file.path}: got ${size} bytes, the Hub lists ${file.size}`);
  const expected = file.sha256 ?? file.gitSha1;
  if (!expected) return;
  const actual = hash.digest("hex");
  if (actual !== expected.replace(/"/g, ""))
    throw new HubDownloadError(
      `${file.path}: checksum mismatch (${file.sha256 ? "sha256" : "git sha1"} ${actual}, the Hub lists ${expected}); the file was deleted, try again`,
    );
}

async function verify(path: string, file: HubFile) {
  const size = statSync(path).size;
  if (size !== file.size)
    throw new HubDownloadError(`${file.path}: got ${size} bytes, the Hub lists ${file.size}`);
  const expected = file.sha256 ?? file.gitSha1;
  if (!expected) return;
  const actual = await checksumFile(path, file);
  if (actual !== expected.replace(/"/g, ""))
    throw new HubDownloadError(
      `${file.path}: checksum mismatch (${file.sha256 ? "sha256" : "git sha1"} ${actual}, the Hub lists ${expected}); the file was deleted, try again`,
    );
}

/** Streams one file into `<target>.incomplete`, resuming from what is there; returns when complete. */
async function fetchFileOnce(
  url: string,
  partial: string,
  file: HubFile,
  options: HubDownloadOptions,
  onBytes: (n: number) => void,
  digest: { hash: Hash },
) {
  const have = existsSync(partial) ? statSync(partial).size : 0;
  if (have === file.size && file.size > 0) return;
  const headers: Record<string, string> = { ...authHeaders(options.token) };
  if (have > 0) headers.range = `bytes=${have}-`;
  const res = await (options.fetch ?? fetch)(url, { headers, signal: options.signal, redirect: "follow" });
  if (res.status === 416 && have > 0) {
    // the partial file is longer than the file: start over
    rmSync(partial, { force: true });
    digest.hash = startHash(file);
    throw new HubDownloadError(`${file.path}: the partial download was longer than the file; restarting`);
  }
  if (!res.ok)
    throw new HubDownloadError(
      describeStatus(res.status, `downloading ${file.path}`, options.repoId),
      res.status,
    );
  const isResumed = res.status === 206;
  if (!isResumed) {
    // the server ignored Range (or there was nothing yet): the whole file comes again
    if (have > 0) onBytes(-have);
    digest.hash = startHash(file);
  }
  const handle = await open(partial, isResumed ? "a" : "w");
  try {
    if (!res.body) return;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await handle.write(value);
      digest.hash.update(value);
      onBytes(value.byteLength);
    }
  } finally {
    await handle.close();
  }
}

/**
 * Downloads the repository's model files into `options.dir`. Returns the files taken and the
 * commit the revision resolved to (x-repo-commit), when the server says.
 */
export async function downloadHubModel(options: HubDownloadOptions): Promise<{ files: HubFile[] }> {
  const all = await listHubFiles(options);
  const include = options.include ?? isModelFile;
  const files = all.filter((f) => include(f.path));
  if (!files.some((f) => f.path === "config.json"))
    throw new HubDownloadError(
      `${options.repoId} has no config.json at its root: it is not a transformers model repository`,
    );
  mkdirSync(options.dir, { recursive: true });
  const bytesTotal = files.reduce((s, f) => s + f.size, 0);
  let bytesDone = 0;
  let filesDone = 0;
  const base = options.endpoint.replace(/\/+$/, "");
  const rev = encodeURIComponent(options.revision ?? "main");
  const report = (file: string) =>
    options.onProgress?.({ file, filesDone, filesTotal: files.length, bytesDone, bytesTotal });

  for (const file of files) {
    const target = join(options.dir, ...file.path.split("/"));
    mkdirSync(dirname(target), { recursive: true });
    if (existsSync(target) && statSync(target).size === file.size) {
      try {
        await verify(target, file);
        bytesDone += file.size;
        filesDone++;
        report(file.path);
        continue;
      } catch {
        rmSync(target, { force: true });
      }
    }
    const partial = `${target}.incomplete`;
    bytesDone += existsSync(partial) ? statSync(partial).size : 0;
    const url = `${base}/${options.repoId}/resolve/${rev}/${encodePath(file.path)}`;
    const maxAttempts = options.maxAttempts ?? 5;
    // a partial file left by an earlier job is hashed once; the rest is hashed as it arrives
    const digest = { hash: startHash(file) };
    if (existsSync(partial))
      for await (const chunk of createReadStream(partial)) digest.hash.update(chunk as Buffer);
    for (let attempt = 1; ; attempt++) {
      try {
        await fetchFileOnce(
          url,
          partial,
          file,
          options,
          (n) => {
            bytesDone += n;
            report(file.path);
          },
          digest,
        );
        break;
      } catch (e) {
        if (options.signal?.aborted) throw e;
        // HTTP refusals (404, 401…) do not get better by retrying; dropped connections do
        if (e instanceof HubDownloadError && e.status !== undefined && e.status < 500) throw e;
        if (attempt >= maxAttempts)
          throw new HubDownloadError(
            `${file.path}: download failed after ${attempt} attempts: ${(e as Error).message}`,
          );
        if (!existsSync(partial)) bytesDone = files.slice(0, filesDone).reduce((s, f) => s + f.size, 0);
      }
    }
    try {
      verifyDigest(partial, file, digest.hash);
    } catch (e) {
      rmSync(partial, { force: true });
      throw e;
    }
    renameSync(partial, target);
    filesDone++;
    report(file.path);
  }
  return { files };
}
