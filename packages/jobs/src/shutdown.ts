/**
 * One graceful shutdown for every process: BullMQ workers first (they finish or hand back their
 * jobs), then queues, then Redis connections, then Prisma. Each step is bounded so a stuck close
 * cannot keep the process alive forever.
 */
export interface Closable {
  close(): Promise<unknown>;
}

export async function shutdownGracefully(
  parts: {
    workers?: Closable[];
    queues?: Closable[];
    redis?: { quit(): Promise<unknown>; disconnect(): void }[];
    db?: { $disconnect(): Promise<void> };
    /** extra steps run first (e.g. stopping heartbeats, marking the worker stopped) */
    before?: (() => Promise<void>)[];
  },
  timeoutMs = 10_000,
): Promise<void> {
  const bounded = (p: Promise<unknown>) =>
    Promise.race([p.catch(() => {}), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  for (const step of parts.before ?? []) await bounded(step());
  await bounded(Promise.all((parts.workers ?? []).map((w) => w.close())));
  await bounded(Promise.all((parts.queues ?? []).map((q) => q.close())));
  await bounded(
    Promise.all(
      (parts.redis ?? []).map(async (r) => {
        try {
          await r.quit();
        } catch {
          r.disconnect();
        }
      }),
    ),
  );
  if (parts.db) await bounded(parts.db.$disconnect());
}
