import { z } from "zod";

const MB = 1024 * 1024;

/** Guards against hostile or mistaken uploads. Defaults fit a few-GB trace file. */
export const ZIngestLimits = z.object({
  /** bytes read from the source (compressed size for gzip) */
  maxFileBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * MB),
  /** bytes after decompression */
  maxDecompressedBytes: z
    .number()
    .int()
    .positive()
    .default(16 * 1024 * MB),
  /** decompressed/compressed ratio above which gzip counts as a bomb (after the first 16 MB) */
  maxCompressionRatio: z.number().positive().default(100),
  /** one JSONL line, JSON array element or CSV record */
  maxLineBytes: z
    .number()
    .int()
    .positive()
    .default(16 * MB),
  /** columns (CSV header fields, keys of a JSON row); published reasoning sets have a few dozen */
  maxColumns: z.number().int().positive().default(1000),
  /** rows kept in the report; the count is always exact */
  maxReportedErrors: z.number().int().min(0).default(100),
});
export type IngestLimits = z.infer<typeof ZIngestLimits>;
export type IngestLimitsInput = z.input<typeof ZIngestLimits>;

/** The ratio check starts after this many decompressed bytes: tiny files compress wildly. */
export const BOMB_RATIO_GRACE_BYTES = 16 * MB;
