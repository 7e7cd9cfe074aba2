import { idToTokenOf } from "@distillery/core";
import type { z } from "zod";
import type { ModelPool, ModelState } from "../pool/model-pool.ts";
import { type ServableModel, UnknownModelError } from "../pool/servable-models.ts";
import type { Upstreams } from "../upstream/upstream.ts";
import { chatInput, createCompletion, streamCompletion, textInput } from "./create-completion.ts";
import { OpenAiError, openAiErrorFromZod } from "./openai-error.ts";
import { ZChatCompletionRequest, ZCompletionRequest, ZTokenizeRequest } from "./openai-schemas.ts";

/**
 * The /v1 endpoints as plain Request → Response functions (the web's route handlers call
 * these after authorising; tests serve them over HTTP). Every failure is an OpenAI error object.
 */
export interface V1Deps {
  pool: ModelPool;
  /** models served by a GPU server (packages/trainer-hf's serve): requests are forwarded there */
  upstreams?: Upstreams;
}

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

async function readBody<S extends z.ZodType>(
  req: Request,
  schema: S,
): Promise<{ body: z.infer<S>; raw: Record<string, unknown> }> {
  const text = await req.text();
  if (text.length > 4_000_000)
    throw new OpenAiError(413, "request body is over 4 MB", null, "payload_too_large");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new OpenAiError(
      400,
      `We could not parse the JSON body of your request: ${(e as Error).message}`,
      "body",
      "invalid_json",
    );
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new OpenAiError(400, "the request body must be a JSON object", "body", "invalid_json");
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw openAiErrorFromZod(parsed.error.issues);
  return { body: parsed.data, raw: raw as Record<string, unknown> };
}

async function acquire(deps: V1Deps, id: string) {
  try {
    return await deps.pool.acquire(id);
  } catch (e) {
    if (e instanceof UnknownModelError) throw new OpenAiError(404, e.message, "model", "model_not_found");
    throw new OpenAiError(
      503,
      `The model \`${id}\` could not be loaded: ${(e as Error).message}`,
      "model",
      "model_load_failed",
    );
  }
}

export function toOpenAiErrorResponse(e: unknown): Response {
  if (e instanceof OpenAiError) return e.toResponse();
  console.error("[inference] request failed:", e);
  return new OpenAiError(500, "internal error; see the server log", null, "internal_error").toResponse();
}

export async function handleChatCompletions(deps: V1Deps, req: Request): Promise<Response> {
  try {
    const { body, raw } = await readBody(req, ZChatCompletionRequest);
    const { upstreams } = deps;
    const upstream = await upstreams?.lookup(body.model);
    // validated here (the same errors as a CPU model), sent as the client wrote it
    if (upstreams && upstream)
      return await upstreams.forward(body.model, upstream, "/v1/chat/completions", raw, req.signal);
    const model = await acquire(deps, body.model);
    const input = chatInput(model, body.model, body, req.signal);
    if (input.stream) return new Response(streamCompletion(input), { headers: SSE_HEADERS });
    return Response.json(await createCompletion(input));
  } catch (e) {
    return toOpenAiErrorResponse(e);
  }
}

export async function handleCompletions(deps: V1Deps, req: Request): Promise<Response> {
  try {
    const { body, raw } = await readBody(req, ZCompletionRequest);
    const { upstreams } = deps;
    const upstream = await upstreams?.lookup(body.model);
    // validated here (the same errors as a CPU model), sent as the client wrote it
    if (upstreams && upstream)
      return await upstreams.forward(body.model, upstream, "/v1/completions", raw, req.signal);
    const model = await acquire(deps, body.model);
    const input = textInput(model, body.model, body, req.signal);
    if (input.stream) return new Response(streamCompletion(input), { headers: SSE_HEADERS });
    return Response.json(await createCompletion(input));
  } catch (e) {
    return toOpenAiErrorResponse(e);
  }
}

/**
 * vLLM's `POST /tokenize` (served at the root, beside /v1): a prompt's token ids with the
 * model's tokenizer, and with `return_token_strs` each id's vocabulary string (what
 * `convert_ids_to_tokens` gives). Teachers use it to check that a student shares the tokenizer.
 */
export async function handleTokenize(deps: V1Deps, req: Request): Promise<Response> {
  try {
    const { body } = await readBody(req, ZTokenizeRequest);
    const model = await acquire(deps, body.model);
    const tokens = model.tokenizer.encode(body.prompt, body.add_special_tokens ?? true);
    const strs = body.return_token_strs ? idToTokenOf(model.tokenizer.json) : null;
    return Response.json({
      count: tokens.length,
      max_model_len: model.backend.contextLength,
      tokens,
      ...(strs ? { token_strs: tokens.map((id) => strs[id] ?? null) } : {}),
    });
  } catch (e) {
    return toOpenAiErrorResponse(e);
  }
}

/**
 * GET /v1/models: every servable model, with its load state (an extension field); a model on a
 * GPU server takes its state from `upstreamStates` (`Upstreams.states`).
 */
export function modelsResponse(
  models: ServableModel[],
  pool: ModelPool,
  upstreamStates?: Map<string, ModelState>,
): Response {
  return Response.json({
    object: "list",
    data: models.map((m) => ({
      id: m.id,
      object: "model",
      created: m.created,
      owned_by: m.runId ? `run:${m.runId}` : "distillery",
      kind: m.kind,
      label: m.label,
      status: upstreamStates?.get(m.id) ?? pool.stateOf(m.id) ?? "unloaded",
    })),
  });
}
