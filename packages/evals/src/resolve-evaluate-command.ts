import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * How to spawn the evaluate CLI without a shell: node with tsx's loader, straight from source
 * (as engine-local's resolveEngineCommand). Append the flags:
 * `--model <dir> [--adapter <dir>] --tasks <jsonl> --run-id <id> --name before|after …`.
 */
export function resolveEvaluateCommand(): { command: string; args: string[] } {
  const require = createRequire(import.meta.url);
  const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
  return { command: process.execPath, args: ["--import", require.resolve("tsx"), cli, "evaluate"] };
}
