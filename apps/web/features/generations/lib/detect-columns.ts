/**
 * The columns of pasted / uploaded prompts, read from the first rows in the browser (the
 * server parses the whole file again and names any error): JSONL, a JSON array, CSV/TSV with
 * a header, or plain lines (column "prompt").
 */
export function detectColumns(text: string, fileName?: string): string[] {
  const ext = fileName?.toLowerCase().match(/\.([a-z]+)$/)?.[1];
  const trimmed = text.trimStart();
  try {
    if (ext === "json" || (!ext && trimmed.startsWith("["))) {
      const v = JSON.parse(text) as Record<string, unknown>[];
      return Array.isArray(v) && v[0] && typeof v[0] === "object" ? Object.keys(v[0]) : [];
    }
    if (ext === "jsonl" || ext === "ndjson" || (!ext && trimmed.startsWith("{"))) {
      const keys = new Set<string>();
      for (const line of text.split(/\r?\n/).slice(0, 50)) {
        if (line.trim() === "") continue;
        for (const k of Object.keys(JSON.parse(line) as object)) keys.add(k);
      }
      return [...keys];
    }
  } catch {
    return [];
  }
  if (ext === "csv" || ext === "tsv") {
    const header = text.split(/\r?\n/)[0] ?? "";
    return header
      .split(ext === "tsv" ? "\t" : ",")
      .map((c) => c.trim().replace(/^"|"$/g, ""))
      .filter(Boolean);
  }
  return ["prompt"];
}
