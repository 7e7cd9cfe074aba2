import "server-only";
import { escapeCsvCell } from "@distillery/core";
import { AppError, getContext } from "@/lib/server/route.ts";

const COLUMNS = [
  "index",
  "prompt",
  "reference",
  "output",
  "is_correct",
  "reasoning_tokens",
  "answer_tokens",
  "is_truncated",
  "outputs",
  "scores",
] as const;

/** Every example of an evaluation as CSV or JSONL, streamed in pages (model text stays text). */
export async function exportEvaluation(
  workspaceId: string,
  id: string,
  format: "csv" | "jsonl",
): Promise<Response> {
  const { db } = getContext();
  const ev = await db.evaluation.findFirst({ where: { id, workspaceId } });
  if (!ev) throw new AppError("not_found", `no evaluation ${id}`);
  const encoder = new TextEncoder();
  let after = -1;
  let started = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(sink) {
      if (!started && format === "csv") sink.enqueue(encoder.encode(`${COLUMNS.join(",")}\r\n`));
      started = true;
      const page = await db.evaluationResult.findMany({
        where: { evaluationId: id, index: { gt: after } },
        orderBy: { index: "asc" },
        take: 500,
      });
      if (page.length === 0) {
        sink.close();
        return;
      }
      after = page[page.length - 1]?.index ?? after;
      const lines = page.map((r) => {
        const rec = {
          index: r.index,
          prompt: r.prompt,
          reference: r.reference,
          output: (r.outputs as string[])[0] ?? "",
          is_correct: r.isCorrect,
          reasoning_tokens: r.reasoningTokens,
          answer_tokens: r.answerTokens,
          is_truncated: r.isTruncated,
          outputs: r.outputs,
          scores: r.scores,
        };
        return format === "jsonl" ? JSON.stringify(rec) : COLUMNS.map((c) => escapeCsvCell(rec[c])).join(",");
      });
      sink.enqueue(
        encoder.encode(`${lines.join(format === "csv" ? "\r\n" : "\n")}${format === "csv" ? "\r\n" : "\n"}`),
      );
    },
  });
  const safe = ev.name.replace(/[^\w.-]+/g, "-").slice(0, 80) || "evaluation";
  return new Response(stream, {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="${safe}.${format}"`,
      "cache-control": "no-store",
    },
  });
}
