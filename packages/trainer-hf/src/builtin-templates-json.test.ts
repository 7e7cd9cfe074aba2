import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BUILTIN_TEMPLATES } from "@distillery/core";
import { describe, expect, it } from "vitest";
import { builtinTemplatesJson } from "./builtin-templates-json.ts";
import { PYTHON_SOURCE_DIR } from "./python-source.ts";

describe("builtin_templates.json (the templates the Python trainer saves with the model)", () => {
  const file = join(PYTHON_SOURCE_DIR, "distillery_trainer", "builtin_templates.json");

  it("is exactly core's built-in templates (run `npm run export-templates -w packages/trainer-hf` after changing them)", () => {
    expect(readFileSync(file, "utf8")).toBe(builtinTemplatesJson());
  });

  it("holds each template byte for byte, with its special tokens", () => {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Record<
      string,
      { chat_template: string; bos_token: string | null }
    >;
    expect(Object.keys(parsed).sort()).toEqual(Object.keys(BUILTIN_TEMPLATES).sort());
    expect(parsed.phi3?.chat_template).toBe(BUILTIN_TEMPLATES.phi3.template);
    expect(parsed["deepseek-r1"]?.chat_template).toContain("<｜Assistant｜><think>\\n");
    expect(parsed.chatml?.chat_template).toContain(
      "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
    );
    expect(parsed.llama3?.bos_token).toBe("<|begin_of_text|>");
  });
});
