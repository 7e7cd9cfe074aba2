import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** packages/trainer-hf/python: the directory that holds the `distillery_trainer` package. */
export const PYTHON_SOURCE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "python");

/** PYTHONPATH with our source first, keeping whatever the worker's environment already had. */
export function pythonPathWith(existing: string | undefined): string {
  return existing ? `${PYTHON_SOURCE_DIR}:${existing}` : PYTHON_SOURCE_DIR;
}
