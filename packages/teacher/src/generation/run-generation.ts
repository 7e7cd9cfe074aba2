import { setMaxListeners } from "node:events";
import { estimateTokens } from "../normalize-completion.ts";
import { createRateLimiter } from "../rate-limiter.ts";
import { buildMessages, requestCompletion, type TimedCompletion } from "../request-completion.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetries } from "../retry-policy.ts";
import type { Sampling, TeacherEndpoint } from "../teacher-endpoint.ts";
import { TeacherError } from "../teacher-error.ts";
import { completionKey, type Verification, verifyCompletion } from "../verify-completion.ts";

export interface GenerationPrompt {
  /** position in the job's prompt list: with `sample`, the row's key */
  index: number;
  prompt: string;
  reference?: string | null;
}

/** A row already persisted (a resumed job): never asked again. */
export interface StoredAttempt {
  promptIndex: number;
  sample: number;
  isVerified: boolean;
  /** completionKey of a stored completion, for duplicate detection across a resume */
  key?: string | null;
}

export interface GeneratedRow {
  promptIndex: number;
  sample: number;
  status: "ok" | "failed";
  completion?: TimedCompletion;
  verification?: Verification;
  /** the last failure, for a failed row */
  error?: string;
  /** requests sent for this row (1 = no retry) */
  tries: number;
  failures: string[];
  /** ms from taking the task to handing the row over (limiter waits, retries and all) */
  wallMs: number;
  /** performance.now() when the task was taken (its slot was free) */
  startedAt?: number;
}

export interface LiveCounters {
  done: number;
  accepted: number;
  failed: number;
  tokensIn: number;
  tokensOut: number;
  reasoningTokens: number;
  retries: number;
  inFlight: number;
}

export interface GenerationOptions {
  endpoint: TeacherEndpoint;
  sampling: Sampling;
  prompts: readonly GenerationPrompt[];
  samplesPerPrompt: number;
  /** rejection sampling: up to this many attempts per prompt until `samplesPerPrompt` verify (0: off) */
  rejectionAttempts?: number;
  concurrency: number;
  limits?: { requestsPerMinute?: number; tokensPerMinute?: number };
  retry?: RetryPolicy;
  idleTimeoutMs?: number;
  stream?: boolean;
  stored?: readonly StoredAttempt[];
  /**
   * stores a row. A slot sends its next request while its previous row is being stored (one
   * write in flight per slot, so a slow store holds the work back rather than piling rows up);
   * a row counts, and a rejection follow-up is decided, once stored; the run returns or throws
   * only after every write has ended. A throw stops the job.
   */
  persist: (row: GeneratedRow) => Promise<void>;
  onRetry?: (error: TeacherError, delayMs: number) => void;
  signal?: AbortSignal;
  random?: () => number;
  /** filled as the work goes (in flight, retries, …) for live figures; returned at the end */
  counters?: LiveCounters;
}

export function newLiveCounters(): LiveCounters {
  return {
    done: 0,
    accepted: 0,
    failed: 0,
    tokensIn: 0,
    tokensOut: 0,
    reasoningTokens: 0,
    retries: 0,
    inFlight: 0,
  };
}

interface PromptState {
  p: GenerationPrompt;
  verified: number;
  attempts: number;
  nextSample: number;
  /** attempts launched and not yet persisted */
  pending: number;
  seen: Set<string>;
}

/**
 * Sends every prompt (× samples) to the teacher, `concurrency` requests at a time within the
 * rate limits, and hands each row to `persist` as it arrives. Rows already stored are skipped,
 * so a resumed job never asks again for a completion it has. With rejection sampling a prompt
 * gets a further attempt each time one fails verification, up to `rejectionAttempts`. A wrong
 * API key (401) stops everything at once; a cancel stops it between requests and aborts those
 * in flight (nothing half-done is persisted). Returns the counters of this session.
 */
export async function runGeneration(o: GenerationOptions): Promise<LiveCounters> {
  const counters: LiveCounters = o.counters ?? {
    done: 0,
    accepted: 0,
    failed: 0,
    tokensIn: 0,
    tokensOut: 0,
    reasoningTokens: 0,
    retries: 0,
    inFlight: 0,
  };
  const isRejection = (o.rejectionAttempts ?? 0) > 0;
  const maxAttempts = isRejection
    ? Math.max(o.samplesPerPrompt, o.rejectionAttempts ?? 0)
    : o.samplesPerPrompt;
  const states = new Map<number, PromptState>();
  for (const p of o.prompts) {
    states.set(p.index, { p, verified: 0, attempts: 0, nextSample: 0, pending: 0, seen: new Set() });
  }
  const storedKeys = new Set<string>();
  for (const s of o.stored ?? []) {
    const st = states.get(s.promptIndex);
    if (!st) continue;
    storedKeys.add(`${s.promptIndex}:${s.sample}`);
    st.attempts++;
    if (s.isVerified) st.verified++;
    st.nextSample = Math.max(st.nextSample, s.sample + 1);
    if (s.key) st.seen.add(s.key);
  }
  // the work list: [promptIndex, sample]; rejection follow-ups go to the front
  const queue: [number, number][] = [];
  const wanted = (st: PromptState) =>
    isRejection ? Math.min(o.samplesPerPrompt - st.verified, maxAttempts - st.attempts) - st.pending : 0;
  for (const st of states.values()) {
    if (isRejection) {
      for (let n = wanted(st); n > 0; n--) {
        st.pending++;
        queue.push([st.p.index, st.nextSample++]);
      }
    } else {
      for (let s = 0; s < o.samplesPerPrompt; s++) {
        if (!storedKeys.has(`${st.p.index}:${s}`)) queue.push([st.p.index, s]);
      }
    }
  }
  let head = 0;
  const front: [number, number][] = [];
  const next = () => front.pop() ?? (head < queue.length ? queue[head++] : undefined);

  const limiter = createRateLimiter(o.limits ?? {});
  const stop = new AbortController();
  // every request and backoff listens on it: one listener per slot and then some
  setMaxListeners(0, stop.signal);
  let fatal: unknown = null;
  const fail = (e: unknown) => {
    if (fatal === null) fatal = e;
    stop.abort();
  };
  const onOuterAbort = () => fail(new TeacherError("aborted", "cancelled"));
  if (o.signal?.aborted) onOuterAbort();
  o.signal?.addEventListener("abort", onOuterAbort, { once: true });

  /** tasks taken and not yet stored (rejection follow-ups may still come from them) */
  let activeTasks = 0;
  /** asks the teacher for one row (retries included); undefined when the run is stopping */
  const ask = async (promptIndex: number, sample: number): Promise<GeneratedRow | undefined> => {
    const st = states.get(promptIndex) as PromptState;
    const started = performance.now();
    const messages = buildMessages(st.p.prompt, o.sampling);
    const estimate = estimateTokens(messages.map((m) => m.content).join("\n")) + o.sampling.maxTokens;
    counters.inFlight++;
    let outcome: Awaited<ReturnType<typeof withRetries<TimedCompletion>>>;
    try {
      outcome = await withRetries(
        async () => {
          await limiter.acquire(estimate, stop.signal);
          const c = await requestCompletion(o.endpoint, messages, o.sampling, {
            signal: stop.signal,
            ...(o.stream !== undefined ? { stream: o.stream } : {}),
            ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
          });
          limiter.settle(estimate, c.usage.promptTokens + c.usage.completionTokens);
          return c;
        },
        {
          policy: o.retry ?? DEFAULT_RETRY_POLICY,
          signal: stop.signal,
          onRetry: (e, ms) => {
            counters.retries++;
            o.onRetry?.(e, ms);
          },
          ...(o.random ? { random: o.random } : {}),
        },
      );
    } finally {
      counters.inFlight--;
    }
    if (stop.signal.aborted) return undefined;
    const row: GeneratedRow = {
      promptIndex,
      sample,
      status: outcome.value ? "ok" : "failed",
      tries: outcome.attempts,
      failures: outcome.failures,
      wallMs: 0,
      startedAt: started,
    };
    if (outcome.value) {
      const c = outcome.value;
      row.completion = c;
      row.verification = verifyCompletion(c, st.p.reference, st.seen);
    } else {
      row.error = outcome.error?.message ?? "failed";
    }
    row.wallMs = performance.now() - started;
    return row;
  };

  /** stores a row, then counts it and queues the prompt's rejection follow-ups */
  const store = async (row: GeneratedRow) => {
    const st = states.get(row.promptIndex) as PromptState;
    await o.persist(row);
    // counted only once persisted: the counters say what is stored
    st.pending = Math.max(0, st.pending - 1);
    st.attempts++;
    counters.done++;
    if (row.completion) {
      counters.tokensIn += row.completion.usage.promptTokens;
      counters.tokensOut += row.completion.usage.completionTokens;
      counters.reasoningTokens += row.completion.usage.reasoningTokens ?? 0;
    }
    if (row.status === "failed") counters.failed++;
    else if (row.verification?.isVerified) {
      counters.accepted++;
      st.verified++;
    }
    if (isRejection) {
      for (let n = wanted(st); n > 0; n--) {
        st.pending++;
        front.push([row.promptIndex, st.nextSample++]);
      }
    }
  };

  const slot = async () => {
    // this slot's previous row, still being stored while the next request goes out
    let writing: Promise<void> = Promise.resolve();
    try {
      while (!stop.signal.aborted) {
        const task = next();
        if (!task) {
          // rejection follow-ups may still come from rows in flight or being stored
          if (isRejection && activeTasks > 0) {
            await Promise.race([writing, new Promise((r) => setTimeout(r, 5))]);
            continue;
          }
          return;
        }
        activeTasks++;
        let row: GeneratedRow | undefined;
        try {
          row = await ask(task[0], task[1]);
        } catch (e) {
          fail(e);
        }
        await writing;
        // a complete row is stored even when the run is stopping (nothing half-done ever is)
        if (!row) {
          activeTasks--;
          continue;
        }
        const r = row;
        writing = store(r).then(
          () => {
            activeTasks--;
          },
          (e) => {
            activeTasks--;
            fail(e);
          },
        );
      }
    } finally {
      await writing;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, slot));
  } finally {
    o.signal?.removeEventListener("abort", onOuterAbort);
  }
  if (fatal !== null) throw fatal;
  return counters;
}

/** The duplicate key of a stored row's reasoning and answer (for StoredAttempt.key). */
export { completionKey };
