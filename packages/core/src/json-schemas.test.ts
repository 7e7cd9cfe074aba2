import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renderJsonSchemas } from "./json-schemas.ts";

const schemasDir = join(dirname(fileURLToPath(import.meta.url)), "..", "schemas");

describe("the committed JSON Schemas", () => {
  it.each(Object.entries(renderJsonSchemas()))("%s matches the zod schemas", (name, text) => {
    // a stale file means the Python trainer validates against an old config:
    // run `npm run export-schemas -w packages/core`
    expect(readFileSync(join(schemasDir, name), "utf8")).toBe(text);
  });
});
