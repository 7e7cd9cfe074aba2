import type { z } from "zod";
import { AppError } from "./app-error.ts";
import { fieldErrorsFromZod, problemResponse } from "./problem.ts";

export interface Actor {
  userId: string;
  workspaceId: string;
  name: string;
  email: string;
}

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface RouteDefinition<
  P extends Schema | undefined,
  Q extends Schema | undefined,
  B extends Schema | undefined,
> {
  /** "user": an actor is resolved for the request (the local default user until accounts land) */
  auth: "user" | "none";
  schemas?: { params?: P; query?: Q; body?: B };
  /** largest accepted JSON body, bytes */
  maxBodyBytes?: number;
  handler: (ctx: {
    req: Request;
    params: Out<P>;
    query: Out<Q>;
    body: Out<B>;
    actor: Actor;
  }) => Promise<Response | unknown>;
}

let resolveActorImpl: ((req: Request) => Promise<Actor>) | undefined;
/** Wired once by the app (lib/server/actor.ts): the one place accounts will change. */
export function setActorResolver(resolver: (req: Request) => Promise<Actor>) {
  resolveActorImpl = resolver;
}

const ANONYMOUS: Actor = { userId: "", workspaceId: "", name: "anonymous", email: "" };

function parsePart<S extends Schema | undefined>(
  part: string,
  schema: S | undefined,
  value: unknown,
): Out<S> {
  if (!schema) return undefined as Out<S>;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = fieldErrorsFromZod(part, parsed.error.issues);
    throw new AppError("validation_failed", errors.map((e) => `${e.field}: ${e.message}`).join("; "), errors);
  }
  return parsed.data as Out<S>;
}

async function readJson(req: Request, maxBytes: number): Promise<unknown> {
  const text = await req.text();
  if (Buffer.byteLength(text) > maxBytes)
    throw new AppError("payload_too_large", `request body is over ${maxBytes} bytes`);
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError("bad_request", `request body is not valid JSON: ${(e as Error).message}`, [
      { field: "body", message: "not valid JSON" },
    ]);
  }
}

/**
 * The one route wrapper: resolves the actor, parses params, query and body with zod, runs the
 * handler, and turns every error into application/problem+json (RFC 9457).
 */
export function withRoute<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
>(def: RouteDefinition<P, Q, B>) {
  return async (
    req: Request,
    context?: { params?: Promise<Record<string, string | string[]>> },
  ): Promise<Response> => {
    const path = new URL(req.url).pathname;
    try {
      if (def.auth === "user" && !resolveActorImpl) throw new Error("no actor resolver configured");
      const actor = def.auth === "user" && resolveActorImpl ? await resolveActorImpl(req) : ANONYMOUS;
      const params = parsePart("params", def.schemas?.params, (await context?.params) ?? {});
      const query = parsePart("query", def.schemas?.query, Object.fromEntries(new URL(req.url).searchParams));
      const body = def.schemas?.body
        ? parsePart("body", def.schemas.body, await readJson(req, def.maxBodyBytes ?? 1_000_000))
        : (undefined as Out<B>);
      const result = await def.handler({ req, params, query, body, actor });
      if (result instanceof Response) return result;
      return Response.json(result ?? null, { headers: { "cache-control": "no-store" } });
    } catch (e) {
      if (e instanceof AppError) return problemResponse(e, path);
      console.error(`[web] ${req.method} ${path} failed:`, e);
      return problemResponse(new AppError("internal", "internal error; see the server log"), path);
    }
  };
}
