import type { Db } from "@distillery/db";
import type { StoredModelFacts } from "./models.ts";

export interface TokenizerModel {
  id: string;
  name: string;
  /** blob key of the model's tokenizer.json */
  tokenizerKey: string;
}

/** models the user brought (Hub, upload, a worker's path), as opposed to ones runs wrote */
const BROUGHT = new Set(["hub", "upload", "path"]);

/**
 * The workspace's models whose tokenizer.json is in blob storage, in the order token statistics
 * pick a default: models the user brought, newest first (the student they are about to train),
 * then the ones runs registered (the demo's tiny students among them), newest first. The first
 * is the default the upload form names and the worker counts with when no model is chosen.
 */
export async function listTokenizerModels(
  db: Db,
  exists: (key: string) => Promise<boolean>,
  workspaceId: string,
): Promise<TokenizerModel[]> {
  const models = await db.model.findMany({
    where: { workspaceId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { id: true, name: true, location: true, facts: true },
  });
  const isBrought = (facts: unknown) =>
    BROUGHT.has((facts as Partial<StoredModelFacts> | null)?.source?.kind ?? "");
  const ordered = [...models.filter((m) => isBrought(m.facts)), ...models.filter((m) => !isBrought(m.facts))];
  const out: TokenizerModel[] = [];
  for (const m of ordered) {
    if (!m.location?.startsWith("blob:")) continue;
    const tokenizerKey = `${m.location.slice("blob:".length).replace(/\/+$/, "")}/tokenizer.json`;
    if (await exists(tokenizerKey)) out.push({ id: m.id, name: m.name, tokenizerKey });
  }
  return out;
}
