import { z } from "zod";
import { DatasetError } from "./dataset-error.ts";

export interface HubOptions {
  /** e.g. "Magpie-Align/Magpie-Reasoning-V2-250K-CoT-Deepseek-R1-Llama-70B" */
  dataset: string;
  config?: string;
  split?: string;
  /** for gated or private datasets */
  token?: string;
  hubUrl?: string;
  datasetsServerUrl?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export interface HubParquetFile {
  url: string;
  config: string;
  split: string;
  filename: string;
  size?: number;
}

export const HUB_URL = "https://huggingface.co";
export const DATASETS_SERVER_URL = "https://datasets-server.huggingface.co";

export const ZHubDatasetId = z
  .string()
  .regex(/^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/, "a dataset id looks like owner/name")
  .refine((s) => !s.includes(".."), "a dataset id may not contain ..");

const ZParquetResponse = z.object({
  parquet_files: z.array(
    z.object({
      config: z.string(),
      split: z.string(),
      url: z.string().url(),
      filename: z.string(),
      size: z.number().optional(),
    }),
  ),
});

export function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export async function hubGetJson(url: string, o: HubOptions): Promise<unknown> {
  const res = await (o.fetch ?? fetch)(url, {
    headers: authHeaders(o.token),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (res.status === 401 || res.status === 403) {
    throw new DatasetError(
      "hub",
      `${o.dataset} is gated or private: ${o.token ? "this token has no access" : "add a Hugging Face token"} (HTTP ${res.status})`,
    );
  }
  if (res.status === 404)
    throw new DatasetError(
      "hub",
      `${o.dataset} was not found on the Hub, or has no Parquet export (HTTP 404)`,
    );
  if (!res.ok) throw new DatasetError("hub", `the Hub answered HTTP ${res.status} for ${o.dataset}`);
  try {
    return await res.json();
  } catch {
    throw new DatasetError("hub", `the Hub sent a response that is not JSON for ${o.dataset}`);
  }
}

/**
 * Lists a dataset's Parquet files (the Hub's auto-converted `refs/convert/parquet` branch) for a
 * config and split. Asks the datasets-server `/parquet?dataset=` route, which lists every config
 * and split with sizes; if that is unavailable and a config is given, falls back to the Hub's
 * `/api/datasets/{id}/parquet/{config}/{split}` route. Defaults: the "default" config (or the
 * only one) and the "train" split.
 */
export async function listHubParquetFiles(o: HubOptions): Promise<HubParquetFile[]> {
  const id = ZHubDatasetId.safeParse(o.dataset);
  if (!id.success)
    throw new DatasetError("hub", `"${o.dataset}": ${id.error.issues[0]?.message}`, { field: "dataset" });
  const split = o.split ?? "train";
  const server = (o.datasetsServerUrl ?? DATASETS_SERVER_URL).replace(/\/$/, "");
  let files: HubParquetFile[];
  try {
    const json = await hubGetJson(`${server}/parquet?dataset=${encodeURIComponent(o.dataset)}`, o);
    const parsed = ZParquetResponse.safeParse(json);
    if (!parsed.success)
      throw new DatasetError("hub", "unexpected /parquet response from the datasets server");
    files = parsed.data.parquet_files;
  } catch (err) {
    if (!o.config || (err instanceof DatasetError && /gated or private/.test(err.message))) throw err;
    return listFromHubApi(o, o.config, split);
  }
  const configs = [...new Set(files.map((f) => f.config))];
  const config =
    o.config ?? (configs.includes("default") ? "default" : configs.length === 1 ? configs[0] : undefined);
  if (config === undefined)
    throw new DatasetError("hub", `${o.dataset} has several configs; pick one of: ${configs.join(", ")}`, {
      field: "config",
    });
  const chosen = files.filter((f) => f.config === config && f.split === split);
  if (chosen.length === 0) {
    const splits = [...new Set(files.filter((f) => f.config === config).map((f) => f.split))];
    throw new DatasetError(
      "hub",
      splits.length
        ? `${o.dataset} (${config}) has no split "${split}"; it has: ${splits.join(", ")}`
        : `${o.dataset} has no config "${config}"; it has: ${configs.join(", ")}`,
      { field: splits.length ? "split" : "config" },
    );
  }
  return chosen;
}

async function listFromHubApi(o: HubOptions, config: string, split: string): Promise<HubParquetFile[]> {
  const hub = (o.hubUrl ?? HUB_URL).replace(/\/$/, "");
  const json = await hubGetJson(
    `${hub}/api/datasets/${o.dataset}/parquet/${encodeURIComponent(config)}/${encodeURIComponent(split)}`,
    o,
  );
  const urls = z.array(z.string().url()).safeParse(json);
  if (!urls.success || urls.data.length === 0)
    throw new DatasetError("hub", `no Parquet files for ${o.dataset} ${config}/${split}`);
  return urls.data.map((url) => ({ url, config, split, filename: url.split("/").pop() ?? "data.parquet" }));
}
