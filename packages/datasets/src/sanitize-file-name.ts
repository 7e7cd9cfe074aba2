import { basename } from "node:path";

const MAX_NAME = 120;

/**
 * A user-supplied file name made safe to show, log and use as a blob key suffix: no path
 * parts (`../`, `C:\`), no control or bidi characters, no leading dots, bounded length.
 * The extension survives so format detection can still use it.
 */
export function sanitizeFileName(name: string | undefined | null, fallback = "upload"): string {
  if (!name) return fallback;
  let s = basename(name.replaceAll("\\", "/")).normalize("NFC");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  s = s.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, "");
  s = s
    .replace(/[<>:"/|?*]/g, "_")
    .replace(/\s+/g, " ")
    .trim();
  s = s.replace(/^\.+/, "");
  if (s.length > MAX_NAME) {
    const dot = s.lastIndexOf(".");
    const ext = dot > 0 && s.length - dot <= 12 ? s.slice(dot) : "";
    s = s.slice(0, MAX_NAME - ext.length) + ext;
  }
  return s === "" ? fallback : s;
}
