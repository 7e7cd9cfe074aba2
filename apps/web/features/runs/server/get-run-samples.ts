import "server-only";
import type { SampleEvent } from "@distillery/core";
import { getContext } from "@/lib/server/context.ts";

/** Sample generations, newest first (by step, then seq): outputs are untrusted text. */
export async function getRunSamples(runId: string, options: { take: number; beforeSeq?: number }) {
  const { db } = getContext();
  const run = await db.run.findUnique({ where: { id: runId }, select: { lastSeq: true } });
  const throughSeq = run?.lastSeq ?? -1;
  const rows = await db.runEvent.findMany({
    where: {
      runId,
      type: "sample",
      seq: { lte: options.beforeSeq !== undefined ? options.beforeSeq - 1 : throughSeq },
    },
    orderBy: { seq: "desc" },
    take: options.take,
    select: { data: true },
  });
  return { samples: rows.map((r) => r.data as unknown as SampleEvent), throughSeq };
}
