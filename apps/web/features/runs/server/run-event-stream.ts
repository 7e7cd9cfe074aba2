import type { EngineEvent } from "@distillery/core";
import { type Db, listRunEvents, TERMINAL_RUN_STATUSES } from "@distillery/db";
import type { RunEventHub } from "@distillery/jobs";

export interface RunEventStreamOptions {
  db: Db;
  hub: Pick<RunEventHub, "subscribe">;
  runId: string;
  /** replay events with seq > afterSeq (-1: from the start) */
  afterSeq: number;
  signal?: AbortSignal;
  heartbeatMs?: number;
  /** how often the run's row is checked for a terminal status while tailing */
  statusCheckMs?: number;
  /** how long a hole in the live seq may wait for Postgres before it is given up */
  gapWaitMs?: number;
  replayPageSize?: number;
}

const encoder = new TextEncoder();
/** SSE messages queued for one client before the replay waits for it to read */
const QUEUED_EVENTS = 4_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One SSE message: `id` is the event's seq, so a reconnecting EventSource resumes after it. */
export function formatSseEvent(e: EngineEvent): string {
  return `id: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`;
}

/**
 * The SSE stream of one run: replay from Postgres after `afterSeq`, then the live tail from
 * Redis pub/sub, with no gap and no duplicate:
 *   1. subscribe first and buffer, so nothing published during the replay is missed;
 *   2. replay from Postgres in pages;
 *   3. drain the buffer, then forward live events, skipping seq ≤ the last sent.
 * Live events run ahead of Postgres (the worker publishes at once, persists in batches), so a
 * live event whose seq jumps past last+1 means some events were published before we subscribed
 * but were not yet persisted when we replayed: they are read again from Postgres before going
 * on. The stream ends (`event: end`) once the run is finished and everything was sent.
 */
export function createRunEventStream(options: RunEventStreamOptions): ReadableStream<Uint8Array> {
  const { db, hub, runId } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const statusCheckMs = options.statusCheckMs ?? 2_000;
  const gapWaitMs = options.gapWaitMs ?? 3_000;
  const pageSize = options.replayPageSize ?? 2_000;
  let lastSent = options.afterSeq;
  let isClosed = false;
  let buffer: EngineEvent[] = [];
  let isLive = false;
  let pumping: Promise<void> = Promise.resolve();
  const cleanups: (() => void)[] = [];

  return new ReadableStream<Uint8Array>(
    {
      async start(controller) {
        const close = () => {
          if (isClosed) return;
          isClosed = true;
          for (const c of cleanups.splice(0)) c();
          try {
            controller.close();
          } catch {}
        };
        const write = (text: string) => {
          if (isClosed) return;
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            close();
          }
        };
        const send = (e: EngineEvent) => {
          if (e.seq <= lastSent) return;
          write(formatSseEvent(e));
          lastSent = e.seq;
        };
        /** Replays from Postgres everything after lastSent (up to `untilSeq` when given). */
        const catchUp = async (untilSeq = Number.POSITIVE_INFINITY) => {
          while (!isClosed) {
            // a slow client: let its queue drain before reading the next page (bounded memory)
            while (!isClosed && (controller.desiredSize ?? 1) <= 0) await sleep(20);
            const page = await listRunEvents(db, runId, { afterSeq: lastSent, take: pageSize });
            for (const e of page) {
              if (e.seq > untilSeq) return;
              send(e);
            }
            if (page.length < pageSize) return;
          }
        };
        const isRunFinished = async () => {
          const run = await db.run.findUnique({ where: { id: runId }, select: { status: true } });
          return !run || TERMINAL_RUN_STATUSES.includes(run.status);
        };
        const finishIfDone = async () => {
          if (isClosed) return;
          if (await isRunFinished()) {
            await catchUp();
            write("event: end\ndata: {}\n\n");
            close();
          }
        };
        /** Forwards buffered live events in seq order, filling any hole from Postgres first. */
        const pump = async () => {
          while (buffer.length > 0 && !isClosed) {
            buffer.sort((a, b) => a.seq - b.seq);
            const next = buffer[0] as EngineEvent;
            if (next.seq > lastSent + 1) {
              const deadline = Date.now() + gapWaitMs;
              while (!isClosed && lastSent + 1 < next.seq && Date.now() < deadline) {
                await catchUp(next.seq - 1);
                if (lastSent + 1 < next.seq) await sleep(50);
              }
            }
            const batch = buffer;
            buffer = [];
            let sawTerminal = false;
            for (const e of batch) {
              send(e);
              if (e.type === "done" || e.type === "error") sawTerminal = true;
            }
            // the worker marks the run finished right after its last event: look again soon
            if (sawTerminal) setTimeout(() => void finishIfDone().catch(() => {}), 500);
          }
        };
        const schedulePump = () => {
          pumping = pumping.then(pump).catch(() => close());
        };

        options.signal?.addEventListener("abort", close, { once: true });
        try {
          const unsubscribe = await hub.subscribe(runId, (e) => {
            if (isClosed || e.runId !== runId) return;
            buffer.push(e);
            if (isLive) schedulePump();
          });
          cleanups.push(unsubscribe);
          if (isClosed) return close();
          write("retry: 1000\n: connected\n\n");
          await catchUp();
          if (await isRunFinished()) {
            // events persisted between the replay and the status read are sent before the end
            await catchUp();
            write("event: end\ndata: {}\n\n");
            return close();
          }
          isLive = true;
          schedulePump();
          const heartbeat = setInterval(() => write(`: heartbeat ${Date.now()}\n\n`), heartbeatMs);
          const statusCheck = setInterval(() => {
            pumping = pumping.then(finishIfDone).catch(() => close());
          }, statusCheckMs);
          cleanups.push(
            () => clearInterval(heartbeat),
            () => clearInterval(statusCheck),
          );
        } catch {
          close();
        }
      },
      cancel() {
        isClosed = true;
        for (const c of cleanups.splice(0)) c();
      },
    },
    new CountQueuingStrategy({ highWaterMark: QUEUED_EVENTS }),
  );
}

/** `Last-Event-ID` (what a reconnecting EventSource sends) wins over `?after=`. */
export function resolveAfterSeq(lastEventId: string | null, after: number | undefined): number {
  const fromHeader =
    lastEventId !== null && /^\d+$/.test(lastEventId.trim()) ? Number(lastEventId.trim()) : undefined;
  return fromHeader ?? after ?? -1;
}
