import "server-only";
import { getGenerationView, isFinishedGeneration } from "./generation-view.ts";

/**
 * The live page's SSE stream: the job's view (figures and newest rows) every `everyMs` while it
 * changes, then `event: end` once the job is finished. Postgres is the source (rows are stored
 * as they arrive), so a reconnect simply gets the current state.
 */
export function createGenerationEventStream(options: {
  workspaceId: string;
  jobId: string;
  signal: AbortSignal;
  everyMs?: number;
}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const everyMs = options.everyMs ?? 1000;
  let last = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream({
    start(controller) {
      const close = () => {
        clearTimeout(timer);
        try {
          controller.close();
        } catch {}
      };
      options.signal.addEventListener("abort", close, { once: true });
      const tick = async () => {
        if (options.signal.aborted) return;
        try {
          const view = await getGenerationView(options.workspaceId, options.jobId);
          const data = JSON.stringify(view);
          if (data !== last) {
            last = data;
            controller.enqueue(encoder.encode(`event: progress\ndata: ${data}\n\n`));
          } else {
            controller.enqueue(encoder.encode(": keep-alive\n\n"));
          }
          if (isFinishedGeneration(view.status)) {
            controller.enqueue(encoder.encode("event: end\ndata: {}\n\n"));
            return close();
          }
        } catch (e) {
          controller.enqueue(
            encoder.encode(`event: problem\ndata: ${JSON.stringify({ detail: (e as Error).message })}\n\n`),
          );
          return close();
        }
        timer = setTimeout(() => void tick(), everyMs);
      };
      void tick();
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}
