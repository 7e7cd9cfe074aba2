import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { buildHfServeCommand } from "./build-hf-serve-command.ts";
import { PYTHON_SOURCE_DIR } from "./python-source.ts";

describe("buildHfServeCommand", () => {
  it("serves a model with its adapter under the studio's id; the key only in the environment", () => {
    const cmd = buildHfServeCommand({
      modelDir: "/models/base",
      adapterDir: "/runs/r1/adapter",
      servedName: "run_1",
      port: 8123,
      maxBatch: 16,
      apiKey: "sk-secret",
    });
    expect(cmd.command).toBe("python3");
    expect(cmd.args).toEqual([
      "-m",
      "distillery_trainer.serve",
      "--model",
      "/models/base",
      "--served-name",
      "run_1",
      "--host",
      "127.0.0.1",
      "--port",
      "8123",
      "--engine",
      "auto",
      "--adapter",
      "/runs/r1/adapter",
      "--max-batch",
      "16",
    ]);
    expect(cmd.args.join(" ")).not.toContain("sk-secret");
    expect(cmd.env).toMatchObject({ PYTHONPATH: PYTHON_SOURCE_DIR, DISTILLERY_SERVE_API_KEY: "sk-secret" });
  });

  it("refuses a bad port or batch", () => {
    expect(() => buildHfServeCommand({ modelDir: "m", servedName: "m", port: 70_000 })).toThrow(/port/);
    expect(() => buildHfServeCommand({ modelDir: "m", servedName: "m", port: 1, maxBatch: 0 })).toThrow(
      /maxBatch/,
    );
  });

  it("the Python side accepts the command line (argparse, without torch: --help)", () => {
    const cmd = buildHfServeCommand({ modelDir: "m", servedName: "m", port: 1 });
    const r = spawnSync(cmd.command, [...cmd.args.slice(0, 2), "--help"], {
      env: { ...process.env, ...cmd.env },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    for (const flag of [
      "--model",
      "--served-name",
      "--host",
      "--port",
      "--engine",
      "--adapter",
      "--max-batch",
    ])
      expect(r.stdout).toContain(flag);
  });
});
