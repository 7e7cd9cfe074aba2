import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Secrets at rest (teacher API keys): AES-256-GCM with a 32-byte key from DISTILLERY_SECRET_KEY
 * (64 hex characters or 44 base64). Stored as "v1:<iv>:<tag>:<ciphertext>" in base64, with a
 * fresh 12-byte IV each time; the tag makes a tampered or wrongly-keyed value fail to decrypt.
 */
const PREFIX = "v1";

export function parseSecretKey(value: string): Buffer {
  const v = value.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, "hex") : Buffer.from(v, "base64");
  if (key.length !== 32) {
    throw new Error("DISTILLERY_SECRET_KEY must be 32 bytes: 64 hex characters or 44 base64 characters");
  }
  return key;
}

export function encryptSecret(plain: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return [
    PREFIX,
    iv.toString("base64"),
    cipher.getAuthTag().toString("base64"),
    data.toString("base64"),
  ].join(":");
}

export function decryptSecret(sealed: string, key: Buffer): string {
  const [prefix, iv, tag, data] = sealed.split(":");
  if (prefix !== PREFIX || !iv || !tag || data === undefined) throw new Error("not a sealed secret");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(data, "base64")), decipher.final()]).toString("utf8");
  } catch {
    // never echo the value: only say it cannot be opened
    throw new Error("a stored secret cannot be decrypted: was DISTILLERY_SECRET_KEY changed?");
  }
}

/**
 * The key for `npm start` when DISTILLERY_SECRET_KEY is unset: read from `path` (in the data
 * folder), generated there (mode 0600) on first start. Returns the hex key.
 */
export function loadOrCreateSecretKeyFile(path: string): string {
  if (existsSync(path)) {
    const hex = readFileSync(path, "utf8").trim();
    parseSecretKey(hex);
    return hex;
  }
  mkdirSync(dirname(path), { recursive: true });
  const hex = randomBytes(32).toString("hex");
  try {
    writeFileSync(path, `${hex}\n`, { mode: 0o600, flag: "wx" });
  } catch (e) {
    // the web and the worker start together: whoever wrote first wins, the other reads it
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return loadOrCreateSecretKeyFile(path);
    throw e;
  }
  chmodSync(path, 0o600);
  return hex;
}

/** Where `npm start` keeps the generated key, inside the data folder. */
export const SECRET_KEY_FILE = "secret.key";

/**
 * The secrets key: DISTILLERY_SECRET_KEY when set (production: the same value on every web and
 * worker machine), else the key file in the data folder, generated on first start.
 */
export function resolveSecretKey(options: { value?: string | undefined; dataDir: string }): Buffer {
  if (options.value) return parseSecretKey(options.value);
  return parseSecretKey(loadOrCreateSecretKeyFile(join(options.dataDir, SECRET_KEY_FILE)));
}
