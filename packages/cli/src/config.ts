import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { CliError, EXIT } from "./exit-codes.ts";

export interface CliConfig {
  url: string;
  token: string;
}

/** ~/.config/distillery/config.json (DISTILLERY_CONFIG overrides the path), written mode 0600. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.DISTILLERY_CONFIG ??
    join(env.XDG_CONFIG_HOME ?? join(homedir(), ".config"), "distillery", "config.json")
  );
}

export function saveConfig(config: CliConfig, env: NodeJS.ProcessEnv = process.env): string {
  const path = configPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/** The studio and token: --url/--token, else DISTILLERY_URL/DISTILLERY_TOKEN, else the saved login. */
export function loadConfig(
  flags: { url?: string; token?: string },
  env: NodeJS.ProcessEnv = process.env,
): CliConfig {
  let saved: Partial<CliConfig> = {};
  try {
    saved = JSON.parse(readFileSync(configPath(env), "utf8")) as Partial<CliConfig>;
  } catch {}
  const url = flags.url ?? env.DISTILLERY_URL ?? saved.url;
  const token = flags.token ?? env.DISTILLERY_TOKEN ?? saved.token;
  if (!url || !token)
    throw new CliError(
      "not logged in: run `distillery login --url URL --token TOKEN` (a token from the studio's Tokens page)",
      EXIT.auth,
    );
  return { url: url.replace(/\/+$/, ""), token };
}
