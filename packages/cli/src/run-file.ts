import { readFileSync } from "node:fs";
import { ZRunConfig } from "@distillery/core/run-config";
import { isNode, LineCounter, parseDocument } from "yaml";
import { CliError, EXIT } from "./exit-codes.ts";

export interface RunFile {
  path: string;
  config: unknown;
  /** the line (1-based) of a dotted field in the file, or of its nearest parent present */
  lineOf: (field: string) => number | null;
}

/**
 * A run config in YAML or JSON (JSON is YAML), in the same schema as the studio's form. Errors
 * name the file, the line and the field, as the web's 400s do.
 */
export function readRunFile(path: string): RunFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CliError(
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      EXIT.usage,
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const line = err?.linePos?.[0]?.line ?? (err ? lines.linePos(err.pos[0]).line : 1);
    throw new CliError(`${path}:${line}: not valid YAML/JSON: ${err?.message.split("\n")[0]}`, EXIT.usage);
  }
  const lineOf = (field: string): number | null => {
    const parts = field
      .split(".")
      .filter(Boolean)
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    for (let n = parts.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(parts.slice(0, n), true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return null;
  };
  return { path, config: doc.toJS(), lineOf };
}

/** Checks the config against the run schema before sending it; throws naming every field and line. */
export function validateRunFile(file: RunFile): unknown {
  const parsed = ZRunConfig.safeParse(file.config);
  if (parsed.success) return file.config;
  const details = parsed.error.issues.map((i) => {
    const field = i.path.join(".");
    return { field, message: i.message };
  });
  throw new CliError(formatFieldErrors(file, details), EXIT.usage, details);
}

/** "run.yaml:12: training.learningRate: must be positive", one line per field. */
export function formatFieldErrors(file: RunFile, errors: { field: string; message: string }[]): string {
  return errors
    .map((e) => {
      const field = e.field.replace(/^body\.config\.?/, "");
      const line = file.lineOf(field);
      return `${file.path}${line ? `:${line}` : ""}: ${field || "(top level)"}: ${e.message}`;
    })
    .join("\n");
}
