import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddMessage, FinishReason, FromModel, LoadMessage, TokenEvent } from "./protocol.ts";
import type { PromptTokenScore } from "./score-prompt.ts";

export interface GenerateRequest {
  promptIds: number[];
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  topLogprobs: number;
  stopTokenIds: number[];
  /** vLLM's `prompt_logprobs` (k per prompt position); absent: none */
  promptLogprobs?: number;
}

export type GenerateEvent =
  | ({ type: "token" } & Omit<TokenEvent, "id">)
  | { type: "prompt"; scores: PromptTokenScore[] }
  | { type: "done"; reason: FinishReason; promptTokens: number; completionTokens: number };

/** One loaded model behind a batching loop; every backend (engine, onnxruntime) offers this. */
export interface ModelBackend {
  readonly name: "engine" | "ort";
  readonly contextLength: number;
  readonly vocabSize: number;
  /** sequences that are queued or decoding now */
  readonly activeCount: number;
  /** sequences ended so far, by how they ended (cancelled = a client went away or a stop string hit) */
  readonly finished: Record<FinishReason, number>;
  /** false once the model process has exited (killed, out of memory): the pool drops it */
  readonly isAlive: boolean;
  generate(req: GenerateRequest, signal?: AbortSignal): AsyncIterable<GenerateEvent>;
  close(): Promise<void>;
}

const ENTRY_REL = join("packages", "inference", "src", "engine", "model-process.ts");

/**
 * The model process's entry file. Next.js bundles this module (import.meta.url then points into
 * .next/), so the source file is found from the repository root instead: beside this file when
 * run from source, else by walking up from the working directory.
 */
export function resolveModelProcessEntry(): { entry: string; root: string } {
  try {
    // not `new URL("./model-process.ts", import.meta.url)`: bundlers turn that into an asset copy
    const here = join(
      /* turbopackIgnore: true */ dirname(fileURLToPath(import.meta.url)),
      "model-process.ts",
    );
    if (existsSync(/* turbopackIgnore: true */ here))
      return { entry: here, root: join(/* turbopackIgnore: true */ dirname(here), "..", "..", "..", "..") };
  } catch {
    // not a file: URL once bundled
  }
  let dir = process.cwd();
  for (let i = 0; i < 8; i++) {
    const candidate = join(/* turbopackIgnore: true */ dir, ENTRY_REL);
    if (existsSync(/* turbopackIgnore: true */ candidate)) return { entry: candidate, root: dir };
    dir = dirname(dir);
  }
  throw new Error(`cannot find ${ENTRY_REL} above ${process.cwd()}`);
}

interface Pending {
  push(e: GenerateEvent): void;
  fail(e: Error): void;
}

/** Forks a model process, loads the model and resolves once it is ready to decode. */
export async function startEngineBackend(options: Omit<LoadMessage, "type">): Promise<ModelBackend> {
  const { entry, root } = resolveModelProcessEntry();
  const child: ChildProcess = fork(/* turbopackIgnore: true */ entry, [], {
    cwd: root,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    serialization: "advanced",
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const pending = new Map<string, Pending>();
  let exited: Error | null = null;
  const finished: Record<FinishReason, number> = { stop: 0, length: 0, cancelled: 0 };
  const ready = new Promise<Extract<FromModel, { type: "ready" }>>((resolve, reject) => {
    child.on("message", (m: FromModel) => {
      if (m.type === "ready") resolve(m);
      else if (m.type === "tokens") {
        for (const e of m.events)
          pending.get(e.id)?.push({ type: "token", token: e.token, logprob: e.logprob, top: e.top });
      } else if (m.type === "prompt") {
        pending.get(m.id)?.push({ type: "prompt", scores: m.scores });
      } else if (m.type === "done") {
        finished[m.reason]++;
        pending.get(m.id)?.push({
          type: "done",
          reason: m.reason,
          promptTokens: m.promptTokens,
          completionTokens: m.completionTokens,
        });
        pending.delete(m.id);
      } else if (m.type === "error") {
        if (m.id) {
          pending.get(m.id)?.fail(new Error(m.message));
          pending.delete(m.id);
        } else reject(new Error(m.message));
      }
    });
    child.on("exit", (code, signal) => {
      exited = new Error(
        `model process exited (${signal ?? code})${stderr ? `: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : ""}`,
      );
      reject(exited);
      for (const p of pending.values()) p.fail(exited);
      pending.clear();
    });
  });
  child.send({ type: "load", ...options } satisfies LoadMessage);
  const info = await ready;

  return {
    name: info.backend,
    contextLength: info.capacity,
    vocabSize: info.vocabSize,
    get activeCount() {
      return pending.size;
    },
    get isAlive() {
      return exited === null;
    },
    finished,
    generate(req, signal) {
      const id = randomUUID();
      const queue: GenerateEvent[] = [];
      let wake: (() => void) | null = null;
      let failure: Error | null = null;
      let finished = false;
      const notify = () => {
        wake?.();
        wake = null;
      };
      return {
        async *[Symbol.asyncIterator]() {
          if (exited) throw exited;
          pending.set(id, {
            push(e) {
              queue.push(e);
              notify();
            },
            fail(e) {
              failure = e;
              notify();
            },
          });
          const cancel = () => {
            if (!finished && child.connected) child.send({ type: "cancel", id });
          };
          signal?.addEventListener("abort", cancel, { once: true });
          child.send({ type: "add", id, ...req } satisfies AddMessage);
          try {
            for (;;) {
              const e = queue.shift();
              if (e) {
                yield e;
                if (e.type === "done") {
                  finished = true;
                  return;
                }
                continue;
              }
              if (failure) throw failure;
              await new Promise<void>((r) => {
                wake = r;
              });
            }
          } finally {
            signal?.removeEventListener("abort", cancel);
            // a consumer that stops early (client gone) frees the slot at once
            if (!finished) {
              cancel();
              finished = true;
            }
            pending.delete(id);
          }
        },
      };
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await gone;
    },
  };
}
