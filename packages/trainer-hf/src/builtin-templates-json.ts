import { BUILTIN_TEMPLATES } from "@distillery/core";

/**
 * The built-in chat templates as the Python trainer reads them
 * (python/distillery_trainer/builtin_templates.json): one source for the rows the worker renders
 * and the `chat_template` the trainer saves. Regenerate with `npm run export-templates -w
 * packages/trainer-hf`; a test fails when the file and core disagree.
 */
export function builtinTemplatesJson(): string {
  const entries = Object.values(BUILTIN_TEMPLATES).map((t) => [
    t.id,
    { source: t.source, chat_template: t.template, bos_token: t.bosToken, eos_token: t.eosToken },
  ]);
  return `${JSON.stringify(Object.fromEntries(entries), null, 2)}\n`;
}
