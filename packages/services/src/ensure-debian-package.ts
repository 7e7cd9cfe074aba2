import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { userInfo } from "node:os";

export class MissingDependencyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MissingDependencyError";
  }
}

export function hasCommand(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/**
 * Makes `command` available: it is on the PATH, or (as root on Debian) apt installs `aptPackage`,
 * or we stop with a message that says exactly how to get it.
 */
export function ensureDebianPackage(
  command: string,
  aptPackage: string,
  howTo: string,
  log = console.log,
): void {
  if (hasCommand(command) || existsSync(command)) return;
  const isRoot = userInfo().uid === 0;
  const isDebian = existsSync("/etc/debian_version");
  if (!isRoot || !isDebian) {
    throw new MissingDependencyError(`${command} was not found on the PATH. ${howTo}`);
  }
  log(`[services] ${command} is missing: installing Debian package ${aptPackage} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  const install = spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", aptPackage], {
    stdio: "inherit",
    env,
  });
  if (install.status !== 0 || !(hasCommand(command) || existsSync(command))) {
    throw new MissingDependencyError(`apt-get could not install ${aptPackage}. ${howTo}`);
  }
}
