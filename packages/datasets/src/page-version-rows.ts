import { type CanonicalExample, getPromptText } from "@distillery/core";

export interface PageVersionRowsOptions {
  readRows: () => AsyncIterable<CanonicalExample>;
  offset?: number;
  limit?: number;
  /** case-insensitive substring over prompt, reasoning and answer */
  search?: string;
}

export interface VersionRowsPage {
  /** each row with its 0-based index in the version */
  rows: { index: number; example: CanonicalExample }[];
  hasMore: boolean;
}

/**
 * One page for the row browser. Streams from the start and stops one match past the page, so
 * early pages are cheap and memory stays at one page whatever the version's size.
 */
export async function pageVersionRows(options: PageVersionRowsOptions): Promise<VersionRowsPage> {
  const offset = Math.max(0, options.offset ?? 0);
  const limit = Math.min(Math.max(1, options.limit ?? 50), 500);
  const needle = options.search?.trim().toLowerCase() ?? "";
  const rows: VersionRowsPage["rows"] = [];
  let matched = 0;
  let index = -1;
  for await (const example of options.readRows()) {
    index++;
    if (needle) {
      const text = `${getPromptText(example)}\n${example.reasoning ?? ""}\n${example.answer}`.toLowerCase();
      if (!text.includes(needle)) continue;
    }
    if (matched++ < offset) continue;
    if (rows.length === limit) return { rows, hasMore: true };
    rows.push({ index, example });
  }
  return { rows, hasMore: false };
}
