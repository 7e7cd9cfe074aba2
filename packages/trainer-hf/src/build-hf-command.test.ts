import { describe, expect, it } from "vitest";
import { buildHfCommand } from "./build-hf-command.ts";
import { PYTHON_SOURCE_DIR } from "./python-source.ts";

describe("buildHfCommand", () => {
  it("runs the module directly on one GPU", () => {
    const cmd = buildHfCommand("/runs/r1/job.json", { gpus: 1 });
    expect(cmd.command).toBe("python3");
    expect(cmd.args).toEqual(["-m", "distillery_trainer", "train", "--config", "/runs/r1/job.json"]);
    expect(cmd.env.PYTHONPATH).toBe(PYTHON_SOURCE_DIR);
    expect(cmd.env.PYTHONUNBUFFERED).toBe("1");
  });

  it("launches one process per GPU through accelerate with the same interpreter", () => {
    const cmd = buildHfCommand("/runs/r1/job.json", { gpus: 4, python: "/opt/venv/bin/python" });
    expect(cmd.command).toBe("/opt/venv/bin/python");
    expect(cmd.args.slice(0, 2)).toEqual(["-m", "accelerate.commands.launch"]);
    expect(cmd.args).toContain("--multi_gpu");
    expect(cmd.args[cmd.args.indexOf("--num_processes") + 1]).toBe("4");
    expect(cmd.args.slice(-5)).toEqual([
      "-m",
      "distillery_trainer",
      "train",
      "--config",
      "/runs/r1/job.json",
    ]);
  });

  it("keeps an existing PYTHONPATH after ours", () => {
    const cmd = buildHfCommand("job.json", { gpus: 0, pythonPath: "/site" });
    expect(cmd.env.PYTHONPATH).toBe(`${PYTHON_SOURCE_DIR}:/site`);
  });

  it("rejects a negative or fractional GPU count", () => {
    expect(() => buildHfCommand("job.json", { gpus: -1 })).toThrow(RangeError);
    expect(() => buildHfCommand("job.json", { gpus: 1.5 })).toThrow(RangeError);
  });
});
