import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { registerTeacherLogits } from "@distillery/catalog";
import { resolveTemplate } from "@distillery/core";
import { readVersionRows, writeEngineJsonl } from "@distillery/datasets";
import type { Db, Prisma } from "@distillery/db";
import { resolveEngineCommand } from "@distillery/engine-local";
import type { TeacherLogitsPayload } from "@distillery/jobs";
import type { BlobStore } from "@distillery/storage";
import { RunSetupError } from "../runs/engine-launcher.ts";
import { resolveModelDir, resolveVersionRows } from "../runs/materialize.ts";
import { type EngineCommand, spawnEngine } from "../runs/spawn-engine.ts";
import { runEndpointTeacherLogits } from "./endpoint-teacher-logits.ts";

export interface TeacherLogitsDeps {
  db: Db;
  store: BlobStore;
  workerId: string;
  /** materialised models and version rows */
  cacheDir: string;
  /** scratch: the rendered examples and the artifact before upload (removed at the end) */
  workDir: string;
  /** heartbeat, progress and cancel poll interval */
  heartbeatMs?: number;
  /** the engine command (default: engine-local's CLI from source) */
  engine?: () => { command: string; args: string[] };
  /** a row whose worker has not heartbeaten for this long is claimed again (default 60 s) */
  staleAfterMs?: number;
  /** worker shutdown: the child is stopped and the row goes back to its waiting status */
  signal?: AbortSignal;
  /** opens a teacher endpoint's sealed key (rows with teacherEndpointId) */
  secretKey?: Buffer;
}

export type TeacherLogitsOutcome = "estimated" | "ready" | "failed" | "cancelled" | "skipped" | "interrupted";

/**
 * The rows file of the version rendered into {prompt, completion} JSONL with the chat template
 * and system prompt the artifact records, exactly as prepareJobFiles renders a run's train.jsonl
 * (the engine compares the two files' sha256 when a run reads the artifact).
 */
export async function renderArtifactExamples(options: {
  rowsPath: string;
  modelDir: string;
  modelRef: string;
  template: string;
  systemPrompt?: string | null;
  path: string;
}): Promise<number> {
  const configPath = join(options.modelDir, "tokenizer_config.json");
  const tokenizerConfig = existsSync(configPath) ? JSON.parse(readFileSync(configPath, "utf8")) : undefined;
  const templateFile = join(options.modelDir, "chat_template.jinja");
  let spec: ReturnType<typeof resolveTemplate>;
  try {
    spec = resolveTemplate(
      options.template,
      tokenizerConfig,
      options.modelRef,
      existsSync(templateFile) ? readFileSync(templateFile, "utf8") : undefined,
    );
  } catch (e) {
    throw new RunSetupError((e as Error).message, "template");
  }
  const { rows } = await writeEngineJsonl({
    readRows: () => readVersionRows(options.rowsPath),
    template: spec,
    ...(options.systemPrompt ? { systemPrompt: options.systemPrompt } : {}),
    path: options.path,
  });
  return rows;
}

/** the last meaningful line of the engine's stderr (an EngineError prints its message there) */
function reasonOf(stderrTail: string, code: number | null): string {
  const lines = stderrTail
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const line = lines.find((l) => /error/i.test(l)) ?? lines.at(-1);
  return (line ?? `the engine exited with code ${code}`).slice(0, 2_000);
}

/**
 * One phase of a TeacherLogits row, in a child process (engine-local's `engine teacher-logits`):
 * `estimate` runs with --estimate (size exact, time from one timed teacher batch) and leaves the
 * row `estimated`; `compute` computes the artifact, uploads its three files and registers it
 * (`ready`). The claim bumps `attempt` and fences every later write; a cancel request on the row
 * stops the child (SIGTERM, then SIGKILL) and leaves it `cancelled`; nothing partial is kept.
 */
export async function processTeacherLogits(
  deps: TeacherLogitsDeps,
  payload: TeacherLogitsPayload,
): Promise<TeacherLogitsOutcome> {
  const { db, store, workerId } = deps;
  const waiting = payload.phase === "estimate" ? "estimating" : "queued";
  const staleMs = deps.staleAfterMs ?? 60_000;
  const working = payload.phase === "estimate" ? "estimating" : "running";
  const claimed = await db.teacherLogits.updateMany({
    where: {
      id: payload.artifactId,
      workspaceId: payload.workspaceId,
      cancelRequestedAt: null,
      OR: [
        // never claimed (an estimate's row is `estimating` from the start, without a heartbeat)
        payload.phase === "estimate" ? { status: waiting, heartbeatAt: null } : { status: waiting },
        // a worker that died mid-way: its heartbeat stopped
        { status: working, heartbeatAt: { lt: new Date(Date.now() - staleMs) } },
      ],
    },
    data: {
      status: working,
      claimedById: workerId,
      attempt: { increment: 1 },
      heartbeatAt: new Date(),
      startedAt: new Date(),
      error: null,
    },
  });
  if (claimed.count !== 1) return "skipped";
  const row = await db.teacherLogits.findUniqueOrThrow({ where: { id: payload.artifactId } });
  const fence = { id: row.id, claimedById: workerId, attempt: row.attempt, status: working };
  const finish = (data: Prisma.TeacherLogitsUpdateManyMutationInput) =>
    db.teacherLogits.updateMany({ where: fence, data: { ...data, heartbeatAt: new Date() } });

  const dir = join(deps.workDir, `${row.id}.${row.attempt}`);
  const stop = new AbortController();
  let isCancelled = false;
  let progress: { rowsDone: number; rows: number } | undefined;
  let lastWritten = "";
  const poll = setInterval(() => {
    const p = progress ? JSON.stringify(progress) : "";
    db.teacherLogits
      .updateMany({
        where: fence,
        data: { heartbeatAt: new Date(), ...(p && p !== lastWritten ? { progress } : {}) },
      })
      .then(() => {
        lastWritten = p || lastWritten;
        return db.teacherLogits.findUnique({ where: { id: row.id }, select: { cancelRequestedAt: true } });
      })
      .then((r) => {
        if (r?.cancelRequestedAt && !isCancelled) {
          isCancelled = true;
          stop.abort(new Error("cancel requested"));
        }
      })
      .catch(() => {});
  }, deps.heartbeatMs ?? 1_000);
  poll.unref();
  const onShutdown = () => stop.abort(new Error("worker shutting down"));
  deps.signal?.addEventListener("abort", onShutdown, { once: true });
  try {
    mkdirSync(dir, { recursive: true });
    const teacher = await resolveModelDir(db, store, row.workspaceId, row.teacherModelId, deps.cacheDir);
    const rowsPath = await resolveVersionRows(
      db,
      store,
      row.workspaceId,
      row.versionId,
      deps.cacheDir,
      "versionId",
    );
    const dataPath = join(dir, "examples.jsonl");
    const rendered = await renderArtifactExamples({
      rowsPath,
      modelDir: teacher.dir,
      modelRef: row.teacherModelId,
      template: row.template,
      systemPrompt: row.systemPrompt,
      path: dataPath,
    });
    if (rendered === 0) throw new RunSetupError(`dataset version ${row.versionId} has no rows`, "versionId");
    const outDir = join(dir, "artifact");
    if (row.teacherEndpointId) {
      // finished rows survive an interrupted attempt here (the attempt's folder does not)
      const spoolPath = join(deps.workDir, `${row.id}.spool.ndjson`);
      let result: Awaited<ReturnType<typeof runEndpointTeacherLogits>>;
      try {
        result = await runEndpointTeacherLogits({
          db,
          secretKey: deps.secretKey,
          row: { ...row, teacherEndpointId: row.teacherEndpointId },
          phase: payload.phase,
          tokenizerDir: teacher.dir,
          tokenizerName: row.teacherModelId,
          dataPath,
          outDir,
          spoolPath,
          signal: stop.signal,
          onProgress: (rowsDone, rows) => {
            progress = { rowsDone, rows };
          },
        });
      } catch (e) {
        if (stop.signal.aborted && !isCancelled) {
          // shutdown: the row waits again for the next worker, which resumes from the spool
          await db.teacherLogits.updateMany({ where: fence, data: { status: waiting, heartbeatAt: null } });
          return "interrupted";
        }
        rmSync(spoolPath, { force: true });
        if (isCancelled) {
          await finish({
            status: "cancelled",
            error: "cancelled at the user's request",
            finishedAt: new Date(),
          });
          return "cancelled";
        }
        throw e;
      }
      if (payload.phase === "estimate") {
        await finish({ status: "estimated", estimate: { ...result.estimate }, finishedAt: new Date() });
        return "estimated";
      }
      const isRegistered = await registerTeacherLogits(db, store, {
        id: row.id,
        workerId,
        attempt: row.attempt,
        dir: outDir,
      });
      return isRegistered ? "ready" : "skipped";
    }
    const base = (deps.engine ?? resolveEngineCommand)();
    const cmd: EngineCommand = {
      command: base.command,
      args: [
        ...base.args,
        "teacher-logits",
        "--model",
        teacher.dir,
        "--data",
        dataPath,
        "--out",
        outDir,
        "--k",
        String(row.k),
        "--max-seq-length",
        String(row.maxSeqLength),
        ...(row.completionOnly ? [] : ["--all-positions"]),
        ...(payload.phase === "estimate" ? ["--estimate"] : []),
      ],
    };
    let estimate: Record<string, number> | undefined;
    let manifest: Record<string, unknown> | undefined;
    // the command prints JSON lines that are not run events: {estimate}, {progress}, {manifest}
    const exit = await spawnEngine(
      cmd,
      {
        onEvent: () => {},
        onBadLine: (line) => {
          try {
            const msg = JSON.parse(line) as {
              estimate?: Record<string, number>;
              progress?: { rowsDone: number; rows: number };
              manifest?: Record<string, unknown>;
            };
            if (msg.estimate) estimate = msg.estimate;
            if (msg.progress) progress = msg.progress;
            if (msg.manifest) manifest = msg.manifest;
          } catch {
            // not ours: ignored (stderr carries the engine's diagnostics)
          }
        },
      },
      { signal: stop.signal },
    );
    if (exit.wasStopped) {
      if (isCancelled) {
        await finish({
          status: "cancelled",
          error: "cancelled at the user's request",
          finishedAt: new Date(),
        });
        return "cancelled";
      }
      // shutdown: the row waits again for the next worker (the job is redelivered)
      await db.teacherLogits.updateMany({ where: fence, data: { status: waiting, heartbeatAt: null } });
      return "interrupted";
    }
    if (exit.code !== 0) {
      await finish({ status: "failed", error: reasonOf(exit.stderrTail, exit.code), finishedAt: new Date() });
      return "failed";
    }
    if (payload.phase === "estimate") {
      if (!estimate) throw new Error("the engine printed no estimate");
      await finish({ status: "estimated", estimate, finishedAt: new Date() });
      return "estimated";
    }
    if (!manifest) throw new Error("the engine printed no manifest");
    if (estimate) await finish({ estimate });
    const isRegistered = await registerTeacherLogits(db, store, {
      id: row.id,
      workerId,
      attempt: row.attempt,
      dir: outDir,
    });
    return isRegistered ? "ready" : "skipped";
  } catch (e) {
    const message = (e as Error).message;
    await finish({ status: "failed", error: message.slice(0, 2_000), finishedAt: new Date() }).catch(
      () => {},
    );
    return "failed";
  } finally {
    clearInterval(poll);
    deps.signal?.removeEventListener("abort", onShutdown);
    rmSync(dir, { recursive: true, force: true });
  }
}
