import { AppError } from "./app-error.ts";

/**
 * Reads a request body as text, refusing it (413) as soon as it is known to be over `maxBytes`:
 * from Content-Length before a byte is read, else while streaming, so an oversized body is
 * never buffered whole (a 300 MB POST used to grow the server by 800 MB before its 413).
 */
export async function readBodyText(req: Request, maxBytes: number): Promise<string> {
  const tooLarge = () => new AppError("payload_too_large", `request body is over ${maxBytes} bytes`);
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await req.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}

/** An id with a NUL byte names nothing (PostgreSQL cannot even compare it): 404, never a 500. */
export function hasNulByte(values: Record<string, string | string[]> | undefined): boolean {
  if (!values) return false;
  return Object.values(values).some((v) => (Array.isArray(v) ? v : [v]).some((s) => s.includes("\u0000")));
}

/** PostgreSQL's refusal of a NUL byte in text (22P05 through JSON, 22021 as a string parameter). */
export function isNulByteError(e: unknown): boolean {
  const text = `${(e as { code?: string })?.code ?? ""} ${(e as Error)?.message ?? ""}`;
  return /22P05|22021|unsupported Unicode escape sequence|invalid byte sequence for encoding "UTF8": 0x00/.test(
    text,
  );
}
