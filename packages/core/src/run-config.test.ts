import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type RunConfigInput, ZEngineJob, ZRunConfig } from "./run-config.ts";

// The same fixtures packages/trainer-hf/tests/test_schema.py checks against the exported JSON Schema.
const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "run-config");
const linesOf = (name: string) =>
  readFileSync(join(fixtures, name), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as unknown);

const hf = (extra: Partial<RunConfigInput> = {}): RunConfigInput => ({
  engine: "hf",
  model: { id: "microsoft/Phi-3-mini-4k-instruct" },
  data: { datasetVersionId: "dsv_1" },
  ...extra,
});

/** `path: message` of every issue, or [] when the config parses */
const issuesOf = (config: unknown) => {
  const parsed = ZRunConfig.safeParse(config);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("run-config fixtures against the zod schema", () => {
  it.each(linesOf("valid.jsonl").map((c, i) => [i + 1, c] as const))("valid line %i parses", (_n, config) => {
    expect(issuesOf(config)).toEqual([]);
  });

  it.each(linesOf("invalid.jsonl").map((c, i) => [i + 1, c] as const))(
    "invalid line %i is rejected",
    (_n, config) => {
      expect(issuesOf(config)).not.toEqual([]);
    },
  );
});

describe("QLoRA and Hub export fields", () => {
  it("default to no quantization and no push, private, both parts on", () => {
    const c = ZRunConfig.parse(hf());
    expect(c.lora.quantization).toBe("none");
    expect(c.export).toEqual({ private: true, pushAdapter: true, pushMerged: true });
  });

  it("explains a Hub repo that is not owner/name", () => {
    expect(issuesOf(hf({ export: { hubRepo: "phi3" } }))).toEqual([
      "export.hubRepo: the Hub repo must read owner/name (letters, digits, -, _, .), e.g. my-org/phi3-r1-distilled",
    ]);
  });

  it("refuses quantization with full fine-tuning, on any engine", () => {
    for (const engine of ["hf", "local"] as const)
      expect(issuesOf(hf({ engine, lora: { method: "full", quantization: "nf4" } }))).toEqual([
        expect.stringMatching(/^lora\.quantization: quantization trains LoRA adapters/),
      ]);
  });

  it("refuses QLoRA and a Hub push on the local engine, naming each field", () => {
    expect(
      issuesOf(hf({ engine: "local", lora: { quantization: "int8" }, export: { hubRepo: "my-org/x" } })),
    ).toEqual([
      expect.stringMatching(/^lora\.quantization: the local \(CPU\) engine trains an unquantized base/),
      expect.stringMatching(/^export\.hubRepo: the local \(CPU\) engine cannot push to the Hub/),
    ]);
    expect(issuesOf(hf({ engine: "local", export: { pushMerged: false, pushAdapter: false } }))).toEqual([]);
  });

  it("needs something to push, and a merge before pushing the merged model", () => {
    const repo = "my-org/x";
    expect(issuesOf(hf({ export: { hubRepo: repo, pushAdapter: false, pushMerged: false } }))).toEqual([
      "export.hubRepo: nothing to push: turn on pushing the adapter or the merged model",
    ]);
    expect(issuesOf(hf({ lora: { method: "full" }, export: { hubRepo: repo, pushMerged: false } }))).toEqual([
      "export.hubRepo: nothing to push: a full fine-tune has no adapter; turn on pushing the merged model",
    ]);
    expect(issuesOf(hf({ merge: { mergeAndUnload: false }, export: { hubRepo: repo } }))).toEqual([
      expect.stringMatching(/^export\.pushMerged: there is no merged model to push/),
    ]);
    // a full fine-tune pushes its model whatever merge says; an adapter alone needs no merge
    expect(
      issuesOf(hf({ lora: { method: "full" }, merge: { mergeAndUnload: false }, export: { hubRepo: repo } })),
    ).toEqual([]);
    expect(
      issuesOf(hf({ merge: { mergeAndUnload: false }, export: { hubRepo: repo, pushMerged: false } })),
    ).toEqual([]);
  });

  it("carries the rules into the engine job, where the config sits under config.", () => {
    const job = ZEngineJob.safeParse({
      runId: "r",
      config: hf({ engine: "local", export: { hubRepo: "my-org/x" } }),
      paths: { baseModel: "/m", trainData: "/t.jsonl", outDir: "/o" },
    });
    expect(job.success).toBe(false);
    expect(job.error?.issues[0]?.path).toEqual(["config", "export", "hubRepo"]);
  });

  it("keeps no token: an unknown export key is dropped, never stored", () => {
    const c = ZRunConfig.parse(hf({ export: { hubRepo: "my-org/x", token: "hf_secret" } as never }));
    expect(JSON.stringify(c)).not.toContain("hf_secret");
  });
});
