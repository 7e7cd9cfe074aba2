import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const FIXTURE = join(import.meta.dirname, "fixtures", "ctrl-c-stack.ts");
const dir = mkdtempSync(join(tmpdir(), "distillery-ctrl-c-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Ctrl-C in the terminal", () => {
  it("reaches the supervisor, which stops the apps while PostgreSQL still serves them, then the services", {
    timeout: 180_000,
  }, async () => {
    const out = join(dir, "app-saw.txt");
    // its own process group, like a terminal's foreground job
    const stack = spawn(process.execPath, ["--import", "tsx", FIXTURE, join(dir, "data"), out], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    stack.stdout?.on("data", (d) => {
      output += d;
    });
    stack.stderr?.on("data", (d) => {
      output += d;
    });
    const exited = new Promise<number | null>((r) => stack.once("exit", (code) => r(code)));
    await expect.poll(() => output, { timeout: 150_000, interval: 200 }).toMatch(/READY/);
    // what the terminal does on Ctrl-C: SIGINT to every process of the foreground group
    process.kill(-(stack.pid ?? 0), "SIGINT");
    expect(await exited).toBe(130);
    expect(existsSync(out) ? readFileSync(out, "utf8") : "(the app never wrote)").toBe("ok");
    const order = output.split("\n").filter((l) => /\[supervisor\] stopped/.test(l));
    expect(order).toEqual([
      "[supervisor] stopped app",
      "[supervisor] stopped redis",
      "[supervisor] stopped postgres",
    ]);
  });
});
