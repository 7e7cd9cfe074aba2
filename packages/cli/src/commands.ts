import { createReadStream, mkdirSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { StudioClient } from "./client.ts";
import { type CliConfig, loadConfig, saveConfig } from "./config.ts";
import { CliError, EXIT } from "./exit-codes.ts";
import { createProgress } from "./progress.ts";
import { formatFieldErrors, readRunFile, validateRunFile } from "./run-file.ts";
import { readSse } from "./sse.ts";

export interface GlobalFlags {
  url?: string;
  token?: string;
  json?: boolean;
}
export type Out = { json: (v: unknown) => void; line: (s: string) => void };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function client(flags: GlobalFlags): StudioClient {
  return new StudioClient(loadConfig(flags));
}

export async function login(flags: GlobalFlags & { url?: string; token?: string }, out: Out) {
  if (!flags.url || !flags.token) throw new CliError("login needs --url and --token", EXIT.usage);
  const config: CliConfig = { url: flags.url.replace(/\/+$/, ""), token: flags.token };
  const me = await new StudioClient(config).json<{
    user: { email: string };
    role: string;
    tokenScope: string;
    workspaceId: string;
  }>("/api/me");
  const path = saveConfig(config);
  out.json({
    url: config.url,
    user: me.user.email,
    role: me.role,
    scope: me.tokenScope,
    workspaceId: me.workspaceId,
    config: path,
  });
  out.line(
    `logged in to ${config.url} as ${me.user.email} (${me.role}, token scope ${me.tokenScope}); saved to ${path}`,
  );
}

export async function whoami(flags: GlobalFlags, out: Out) {
  const me = await client(flags).json<{ user: { email: string }; role: string; tokenScope: string }>(
    "/api/me",
  );
  out.json(me);
  out.line(`${me.user.email} (${me.role}, token scope ${me.tokenScope})`);
}

interface DatasetRow {
  id: string;
  name: string;
  latestVersion?: { id: string; version: number; rowCount: number } | null;
  [k: string]: unknown;
}

export async function datasetsLs(flags: GlobalFlags, out: Out) {
  const res = await client(flags).json<{ datasets: DatasetRow[] }>("/api/datasets");
  out.json(res.datasets);
  for (const d of res.datasets) out.line(`${d.id}  ${d.name}`);
  if (res.datasets.length === 0) out.line("no datasets");
}

export async function datasetsUpload(file: string, opts: { name?: string }, flags: GlobalFlags, out: Out) {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new CliError(`cannot read ${file}`, EXIT.usage);
  }
  const studio = client(flags);
  const bar = createProgress(`uploading ${basename(file)}`, size, !flags.json);
  let sent = 0;
  const stream = createReadStream(file);
  stream.on("data", (c) => {
    sent += (c as Buffer).length;
    bar.update(sent);
  });
  const upload = await studio.json<{ uploadId: string; fileName: string; bytes: number }>(
    `/api/datasets/uploads?fileName=${encodeURIComponent(basename(file))}`,
    {
      method: "POST",
      body: Readable.toWeb(stream) as unknown as string,
      headers: { "content-type": "application/octet-stream" },
      duplex: "half",
    } as RequestInit & { body: string },
  );
  bar.done();
  const datasetName = opts.name ?? basename(file).replace(/\.(jsonl|json|csv|parquet)(\.gz)?$/i, "");
  const started = await studio.json<{ jobId: string }>("/api/datasets/imports", {
    method: "POST",
    body: JSON.stringify({
      datasetName,
      source: { kind: "upload", uploadId: upload.uploadId, fileName: upload.fileName },
    }),
  });
  let lastLine = "";
  for (;;) {
    const { job } = await studio.json<{
      job: { status: string; output: Record<string, unknown> | null; error: string | null };
    }>(`/api/datasets/jobs/${started.jobId}`);
    const line = `import ${job.status}${job.output ? ` ${JSON.stringify(job.output)}` : ""}`;
    if (!flags.json && line !== lastLine && process.stderr.isTTY)
      process.stderr.write(`\r${line.slice(0, 150)}   `);
    lastLine = line;
    if (job.status === "completed") {
      if (!flags.json && process.stderr.isTTY) process.stderr.write("\n");
      out.json({
        uploadId: upload.uploadId,
        bytes: upload.bytes,
        jobId: started.jobId,
        datasetName,
        output: job.output,
      });
      out.line(`imported ${datasetName} (job ${started.jobId})`);
      return;
    }
    if (job.status === "failed" || job.status === "cancelled")
      throw new CliError(`import ${job.status}: ${job.error ?? "no reason given"}`, EXIT.error);
    await sleep(500);
  }
}

interface RunView {
  id: string;
  name: string;
  status: string;
  launchedBy?: { name?: string; email?: string } | null;
  createdAt?: string;
}

export async function runsLs(opts: { status?: string; limit?: string }, flags: GlobalFlags, out: Out) {
  const q = new URLSearchParams();
  if (opts.status) q.set("status", opts.status);
  if (opts.limit) q.set("take", opts.limit);
  const res = await client(flags).json<{ runs: RunView[] }>(`/api/runs${q.size ? `?${q}` : ""}`);
  out.json(res.runs);
  for (const r of res.runs)
    out.line(
      `${r.id}  ${r.status.padEnd(9)}  ${r.name}${r.launchedBy?.name ? `  (${r.launchedBy.name})` : ""}`,
    );
  if (res.runs.length === 0) out.line("no runs");
}

export async function runsLaunch(opts: { file: string }, flags: GlobalFlags, out: Out) {
  const file = readRunFile(opts.file);
  const config = validateRunFile(file);
  try {
    const res = await client(flags).json<{ run: RunView }>("/api/runs", {
      method: "POST",
      body: JSON.stringify({ config }),
    });
    out.json(res.run);
    out.line(`launched ${res.run.id} (${res.run.name}), ${res.run.status}`);
  } catch (e) {
    // the server's field errors point into the same file
    if (e instanceof CliError && e.details.length > 0)
      throw new CliError(`${e.message}\n${formatFieldErrors(file, e.details)}`, e.exitCode, e.details);
    throw e;
  }
}

export async function runsCancel(id: string, flags: GlobalFlags, out: Out) {
  const res = await client(flags).json<{ status: string }>(`/api/runs/${encodeURIComponent(id)}/cancel`, {
    method: "POST",
    body: "{}",
  });
  out.json(res);
  out.line(`cancel requested for ${id} (${res.status})`);
}

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

type RunEvent = {
  type: string;
  seq?: number;
  ts?: number;
  step?: number;
  totalSteps?: number;
  values?: Record<string, number>;
  phase?: string;
  message?: string;
};

/** The line `runs watch` prints for a metric: step, loss, lr, tokens/s and ETA. */
export function formatWatchLine(
  step: number,
  totalSteps: number,
  values: Record<string, number>,
  stepsPerSecond: number,
): string {
  const eta =
    stepsPerSecond > 0 && totalSteps ? formatSeconds(Math.max(0, (totalSteps - step) / stepsPerSecond)) : "—";
  const fmt = (k: string, d = 4) => (values[k] === undefined ? "—" : Number(values[k]).toPrecision(d));
  return `step ${step}${totalSteps ? `/${totalSteps}` : ""}  loss ${fmt("loss")}  lr ${fmt("learning_rate", 3)}  tok/s ${fmt("tokens_per_second", 4)}  ETA ${eta}`;
}

export function formatSeconds(s: number): string {
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * Follows a run's SSE stream to its end (reconnecting after the last seen event if the connection
 * drops) and exits with the run's status. The rate behind the ETA comes from the events' own
 * timestamps, so a replayed history gives the same figure as a live one.
 */
export async function runsWatch(id: string, flags: GlobalFlags, out: Out): Promise<number> {
  const studio = client(flags);
  const path = `/api/runs/${encodeURIComponent(id)}`;
  const first = await studio.json<{ run: RunView & { config?: { training?: { maxSteps?: number } } } }>(path); // 404 before streaming
  // -1 (train by epochs) until the engine's first status event says how many steps
  let totalSteps = Math.max(0, first.run.config?.training?.maxSteps ?? 0);
  let firstStep: { step: number; ts: number } | null = null;
  const values: Record<string, number> = {};
  let step = 0;
  let lastSeq = -1;
  let status = first.run.status;
  for (let attempt = 0; ; attempt++) {
    let isEnded = false;
    try {
      const res = await studio.request(`${path}/events?after=${lastSeq}`, {
        headers: { accept: "text/event-stream" },
      });
      if (res.body)
        for await (const msg of readSse(res.body)) {
          if (msg.event === "end") {
            isEnded = true;
            break;
          }
          if (msg.event !== "message" || !msg.data) continue;
          const e = JSON.parse(msg.data) as RunEvent;
          if (typeof e.seq === "number") lastSeq = Math.max(lastSeq, e.seq);
          if (flags.json) {
            out.json(e);
            continue;
          }
          if (e.type === "status" && e.totalSteps) totalSteps = e.totalSteps;
          if (e.type === "status") process.stdout.write(`\n[${e.phase}] ${e.message ?? ""}\n`);
          if (e.type === "error") process.stdout.write(`\nerror: ${e.message}\n`);
          if (e.type === "metric" && e.values) {
            Object.assign(values, e.values);
            step = e.step ?? step;
            const ts = e.ts ?? Date.now();
            firstStep ??= { step, ts };
            const rate =
              step > firstStep.step && ts > firstStep.ts
                ? (step - firstStep.step) / ((ts - firstStep.ts) / 1000)
                : 0;
            const line = formatWatchLine(step, totalSteps, values, rate);
            process.stdout.write(process.stdout.isTTY ? `\r${line}   ` : `${line}\n`);
          }
        }
    } catch (e) {
      // a refused request (404, 401…) is final; a dropped connection is retried below
      if (e instanceof CliError && e.exitCode !== EXIT.unreachable) throw e;
      if (attempt >= 20) throw e;
    }
    status = (await studio.json<{ run: RunView }>(path)).run.status;
    if (isEnded || FINAL.has(status)) break;
    if (attempt >= 20)
      throw new CliError(`the event stream of ${id} keeps closing (run ${status})`, EXIT.error);
    await sleep(Math.min(5000, 500 * (attempt + 1)));
  }
  if (!flags.json) out.line(`\n${id} ${status}`);
  else out.json({ id, status });
  if (!FINAL.has(status)) return EXIT.error;
  return status === "succeeded" ? EXIT.ok : status === "failed" ? EXIT.runFailed : EXIT.runCancelled;
}

/** Streams one download into `dir` with a progress bar; the name comes from Content-Disposition. */
async function downloadTo(
  studio: StudioClient,
  url: string,
  dir: string,
  fallbackName: string,
  knownBytes: number | null,
  flags: GlobalFlags,
): Promise<{ name: string; path: string; bytes: number }> {
  const download = await studio.request(url, { headers: { accept: "*/*" } });
  const total = Number(download.headers.get("content-length") ?? knownBytes ?? 0) || null;
  const disposition = download.headers.get("content-disposition") ?? "";
  const name = basename(/filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName);
  const path = join(dir, name);
  const bar = createProgress(name, total, !flags.json);
  const fh = await open(path, "w");
  let bytes = 0;
  try {
    if (download.body)
      for await (const chunk of download.body as unknown as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        bytes += chunk.length;
        bar.update(bytes);
      }
  } finally {
    await fh.close();
    bar.done();
  }
  return { name, path, bytes };
}

interface DownloadItem {
  name: string;
  downloadUrl: string;
  bytes?: number | string | null;
}

export async function artifactsDownload(
  runId: string,
  opts: { out: string; checkpoints?: boolean },
  flags: GlobalFlags,
  out: Out,
) {
  const studio = client(flags);
  const res = await studio.json<{ artifacts: DownloadItem[]; checkpoints: DownloadItem[] }>(
    `/api/runs/${encodeURIComponent(runId)}/artifacts`,
  );
  mkdirSync(opts.out, { recursive: true });
  const items = [...res.artifacts, ...(opts.checkpoints ? res.checkpoints : [])];
  const written: { name: string; path: string; bytes: number }[] = [];
  for (const item of items) {
    const known = Number(item.bytes ?? 0) || null;
    const file = await downloadTo(studio, item.downloadUrl, opts.out, item.name, known, flags);
    written.push(file);
    out.line(`${file.path}  ${file.bytes} bytes`);
  }
  out.json(written);
  if (written.length === 0) out.line(`run ${runId} has no artifacts yet`);
}

export async function generationsLs(flags: GlobalFlags, out: Out) {
  const { jobs: rows } = await client(flags).json<{
    jobs: { id: string; status: string; name: string; total: number; done: number }[];
  }>("/api/generations");
  out.json(rows);
  for (const g of rows) out.line(`${g.id}  ${g.status.padEnd(9)}  ${g.done}/${g.total}  ${g.name}`);
  if (rows.length === 0) out.line("no generation jobs");
}

export async function generationsCancel(id: string, flags: GlobalFlags, out: Out) {
  const res = await client(flags).json<{ status: string }>(
    `/api/generations/${encodeURIComponent(id)}/cancel`,
    { method: "POST", body: "{}" },
  );
  out.json(res);
  out.line(`cancel requested for ${id} (${res.status})`);
}

export async function generationsShow(id: string, flags: GlobalFlags, out: Out) {
  const g = await client(flags).json<{
    id: string;
    name: string;
    status: string;
    total: number;
    done: number;
    accepted?: number;
    etaSeconds: number | null;
    error: string | null;
    resultVersionId: string | null;
  }>(`/api/generations/${encodeURIComponent(id)}?rows=0`);
  out.json(g);
  out.line(
    `${g.id}  ${g.status}  ${g.name}  ${g.done}/${g.total}${g.etaSeconds !== null ? `  ETA ${formatSeconds(g.etaSeconds)}` : ""}${g.resultVersionId ? `  result ${g.resultVersionId}` : ""}${g.error ? `  error: ${g.error}` : ""}`,
  );
}

interface EvaluationRow {
  id: string;
  name: string;
  model: string;
  status: string;
  runId: string | null;
  total: number;
  done: number;
  metrics: Record<string, unknown> | null;
  error: string | null;
}

export async function evaluationsLs(opts: { run?: string }, flags: GlobalFlags, out: Out) {
  const q = opts.run ? `?runId=${encodeURIComponent(opts.run)}` : "";
  const { evaluations } = await client(flags).json<{ evaluations: EvaluationRow[] }>(`/api/evaluations${q}`);
  out.json(evaluations);
  for (const e of evaluations)
    out.line(`${e.id}  ${e.status.padEnd(9)}  ${e.done}/${e.total}  ${e.name}  (${e.model})`);
  if (evaluations.length === 0) out.line("no evaluations");
}

export async function evaluationsShow(id: string, flags: GlobalFlags, out: Out) {
  const e = await client(flags).json<EvaluationRow>(`/api/evaluations/${encodeURIComponent(id)}`);
  out.json(e);
  out.line(
    `${e.id}  ${e.status}  ${e.name}  (${e.model})  ${e.done}/${e.total}${e.error ? `  error: ${e.error}` : ""}`,
  );
  if (e.metrics) out.line(JSON.stringify(e.metrics, null, 2));
}

export async function evaluationsCancel(id: string, flags: GlobalFlags, out: Out) {
  const e = await client(flags).json<EvaluationRow>(`/api/evaluations/${encodeURIComponent(id)}/cancel`, {
    method: "POST",
    body: "{}",
  });
  out.json(e);
  out.line(`${id} ${e.status}`);
}

export async function evaluationsExport(
  id: string,
  opts: { out: string; format?: string },
  flags: GlobalFlags,
  out: Out,
) {
  const format = opts.format ?? "csv";
  if (format !== "csv" && format !== "jsonl") throw new CliError("--format is csv or jsonl", EXIT.usage);
  mkdirSync(opts.out, { recursive: true });
  const file = await downloadTo(
    client(flags),
    `/api/evaluations/${encodeURIComponent(id)}/export?format=${format}`,
    opts.out,
    `${id}.${format}`,
    null,
    flags,
  );
  out.json(file);
  out.line(`${file.path}  ${file.bytes} bytes`);
}
