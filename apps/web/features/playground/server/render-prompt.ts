import "server-only";
import { join, resolve } from "node:path";
import { renderChat } from "@distillery/core";
import { listServableModels, loadChatTemplate, resolveServableFiles } from "@distillery/inference";
import { AppError, getContext, getEnv } from "@/lib/server/route.ts";

/** The prompt a model sees for these messages (its chat template, generation prompt added). */
export async function renderPrompt(
  workspaceId: string,
  model: string,
  messages: { role: "system" | "user" | "assistant"; content: string }[],
) {
  const { db, store } = getContext();
  if (!(await listServableModels(db, workspaceId)).some((m) => m.id === model))
    throw new AppError("validation_failed", `model: no model ${model}`, [
      { field: "body.model", message: `no model ${model}` },
    ]);
  const cacheDir = join(resolve(getEnv().DISTILLERY_DATA_DIR), "cache", "serving");
  const files = await resolveServableFiles(db, store, workspaceId, model, cacheDir);
  const template = loadChatTemplate(files, model);
  return {
    prompt: renderChat(template, messages, { addGenerationPrompt: true }),
    template: template.label,
    specialTokens: [
      ...template.specialTokens,
      template.eosToken,
      ...(template.bosToken ? [template.bosToken] : []),
    ].filter(Boolean),
  };
}
