import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret, parseSecretKey, resolveSecretKey } from "./secret-box.ts";

describe("secret box", () => {
  it("round-trips, with a fresh IV each time, and rejects tampering", () => {
    const key = randomBytes(32);
    const a = encryptSecret("sk-123", key);
    const b = encryptSecret("sk-123", key);
    expect(a).not.toBe(b);
    expect(a).not.toContain("sk-123");
    expect(decryptSecret(a, key)).toBe("sk-123");
    const parts = a.split(":");
    const data = Buffer.from(parts[3] as string, "base64");
    data[0] = (data[0] as number) ^ 1;
    const tampered = [parts[0], parts[1], parts[2], data.toString("base64")].join(":");
    expect(() => decryptSecret(tampered, key)).toThrow(/cannot be decrypted/);
  });

  it("reads the key from the env as hex or base64, and names the variable when wrong", () => {
    const raw = randomBytes(32);
    expect(parseSecretKey(raw.toString("hex")).equals(raw)).toBe(true);
    expect(parseSecretKey(raw.toString("base64")).equals(raw)).toBe(true);
    expect(() => parseSecretKey("short")).toThrow(/DISTILLERY_SECRET_KEY/);
  });

  it("generates the key into the data folder on first start, mode 0600, and reuses it", () => {
    const dir = mkdtempSync(join(tmpdir(), "secret-"));
    try {
      const first = resolveSecretKey({ dataDir: dir });
      const file = join(dir, "secret.key");
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, "utf8").trim()).toBe(first.toString("hex"));
      expect(resolveSecretKey({ dataDir: dir }).equals(first)).toBe(true);
      const env = randomBytes(32);
      expect(resolveSecretKey({ value: env.toString("hex"), dataDir: dir }).equals(env)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
