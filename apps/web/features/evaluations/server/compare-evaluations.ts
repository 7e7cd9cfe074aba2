import "server-only";
import { AppError, getContext } from "@/lib/server/route.ts";
import type { CompareFilter, CompareRow } from "../lib/evaluation-types.ts";
import { toEvaluationView } from "./evaluation-view.ts";

interface Cell {
  output: string;
  isCorrect: boolean;
  reasoningTokens: number;
  isTruncated: boolean;
}

/**
 * The per-example table of 1–4 evaluations on the same set, side by side (matched by example
 * index). Filters: "wrong" — any evaluation wrong; "fixed" — the first (the base) wrong and a
 * later one right; "broken" — the first right and a later one wrong.
 */
export async function compareEvaluations(
  workspaceId: string,
  ids: string[],
  options: { filter: CompareFilter; offset: number; limit: number },
) {
  const { db } = getContext();
  const rows = await db.evaluation.findMany({ where: { workspaceId, id: { in: ids } } });
  const evaluations = ids.map((id) => {
    const row = rows.find((r) => r.id === id);
    if (!row) throw new AppError("not_found", `no evaluation ${id}`);
    return toEvaluationView(row);
  });
  const results = await db.evaluationResult.findMany({
    where: { evaluationId: { in: ids } },
    orderBy: { index: "asc" },
    select: {
      evaluationId: true,
      index: true,
      prompt: true,
      reference: true,
      outputs: true,
      isCorrect: true,
      reasoningTokens: true,
      isTruncated: true,
    },
  });
  const byIndex = new Map<number, CompareRow>();
  for (const r of results) {
    let row = byIndex.get(r.index);
    if (!row) {
      row = { index: r.index, prompt: r.prompt, reference: r.reference, cells: ids.map(() => null) };
      byIndex.set(r.index, row);
    }
    const cell: Cell = {
      output: (r.outputs as string[])[0] ?? "",
      isCorrect: r.isCorrect,
      reasoningTokens: r.reasoningTokens,
      isTruncated: r.isTruncated,
    };
    row.cells[ids.indexOf(r.evaluationId)] = cell;
  }
  const keep = (row: CompareRow) => {
    const [first, ...rest] = row.cells;
    if (options.filter === "wrong") return row.cells.some((c) => c && !c.isCorrect);
    if (options.filter === "fixed") return !!first && !first.isCorrect && rest.some((c) => c?.isCorrect);
    if (options.filter === "broken") return !!first && first.isCorrect && rest.some((c) => c && !c.isCorrect);
    return true;
  };
  const all = [...byIndex.values()].sort((a, b) => a.index - b.index);
  const counts = {
    all: all.length,
    wrong: 0,
    fixed: 0,
    broken: 0,
  };
  for (const f of ["wrong", "fixed", "broken"] as const) {
    const saved = options.filter;
    options.filter = f;
    counts[f] = all.filter(keep).length;
    options.filter = saved;
  }
  const filtered = all.filter(keep);
  return {
    evaluations,
    counts,
    total: filtered.length,
    rows: filtered.slice(options.offset, options.offset + options.limit),
  };
}
