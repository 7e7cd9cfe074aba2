import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliError, EXIT } from "./exit-codes.ts";
import { formatFieldErrors, readRunFile, validateRunFile } from "./run-file.ts";

const dir = mkdtempSync(join(tmpdir(), "cli-run-file-"));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

function errorOf(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error("expected a CliError");
}

describe("run files", () => {
  it("names the file, line and field of each invalid value", () => {
    const path = write(
      "bad.yaml",
      [
        "name: bad run",
        "model:",
        "  id: mdl_x",
        "data:",
        "  datasetVersionId: dv_x",
        "training:",
        "  learningRate: -1",
        "",
      ].join("\n"),
    );
    const err = errorOf(() => validateRunFile(readRunFile(path)));
    expect(err.exitCode).toBe(EXIT.usage);
    expect(err.message).toMatch(new RegExp(`${path}:7: training\\.learningRate: `));
  });

  it("points a YAML syntax error at its line", () => {
    const path = write("syntax.yaml", "name: x\nmodel: [unclosed\n");
    const err = errorOf(() => readRunFile(path));
    expect(err.message).toMatch(/syntax\.yaml:\d+: not valid YAML\/JSON/);
  });

  it("reads JSON the same way and maps the server's field errors to lines", () => {
    const path = write("run.json", '{\n  "name": "x",\n  "model": {\n    "id": "mdl_gone"\n  }\n}\n');
    const file = readRunFile(path);
    expect(
      formatFieldErrors(file, [{ field: "body.config.model.id", message: "model mdl_gone not found" }]),
    ).toBe(`${path}:4: model.id: model mdl_gone not found`);
  });

  it("says a missing file is missing", () => {
    expect(errorOf(() => readRunFile(join(dir, "nope.yaml"))).message).toMatch(/cannot read .*ENOENT/);
  });
});
