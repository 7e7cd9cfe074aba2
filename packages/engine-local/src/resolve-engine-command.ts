import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * How to spawn the engine CLI as a child process (without a shell): node with tsx's loader,
 * straight from source, so nothing depends on a stale dist/. Append the subcommand and its flags.
 */
export function resolveEngineCommand(): { command: string; args: string[] } {
  const require = createRequire(import.meta.url);
  const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
  return { command: process.execPath, args: ["--import", require.resolve("tsx"), cli] };
}
