import type { z } from "zod";
import { AppError } from "./app-error.ts";
import { fieldErrorsFromZod, problemResponse } from "./problem.ts";
import { hasNulByte, isNulByteError, readBodyText } from "./read-body.ts";

/** Workspace roles, weakest first. */
export const ROLES = ["viewer", "member", "admin", "owner"] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a route needs, declared in its withRoute definition:
 * - "public": no actor (health, sign-in, first start); `actor` is anonymous.
 * - "account": any signed-in user, with or without a workspace (accept an invitation, my tokens).
 * - "read" (viewer and up, any token), "write" (member and up, token scope write or admin),
 *   "admin" (admin and up, token scope admin), "owner" (owner only, never a token).
 * A row owned by someone else in the same workspace (cancel another member's run) is the
 * handler's check: `canManage(actor, createdById)`.
 */
export type Permission = "public" | "account" | "read" | "write" | "admin" | "owner";
export type TokenScope = "read" | "write" | "admin";

export interface Actor {
  userId: string;
  workspaceId: string;
  name: string;
  email: string;
  /** the actor's role in workspaceId ("owner" for the local single user) */
  role: Role;
  /** how the request authenticated; a token's scope caps what the role allows */
  via: "session" | "token" | "local" | "anonymous";
  tokenScope?: TokenScope;
}

/** What a resolver returns; role defaults to "owner", via to "local" (the single-user mode). */
export type ResolvedActor = Omit<Actor, "role" | "via"> & Partial<Pick<Actor, "role" | "via">>;

const ROLE_FOR: Record<Exclude<Permission, "public" | "account">, Role> = {
  read: "viewer",
  write: "member",
  admin: "admin",
  owner: "owner",
};
const SCOPE_RANK: Record<TokenScope, number> = { read: 0, write: 1, admin: 2 };

export function hasRole(actor: Pick<Actor, "role">, needed: Role): boolean {
  return ROLES.indexOf(actor.role) >= ROLES.indexOf(needed);
}

/** Does the actor hold `permission`, by role and (for tokens) by scope? */
export function isAllowed(actor: Actor, permission: Permission): boolean {
  if (permission === "public") return true;
  if (actor.via === "anonymous") return false;
  if (permission === "account") return true;
  if (!actor.workspaceId) return false;
  if (!hasRole(actor, ROLE_FOR[permission])) return false;
  if (actor.via === "token") {
    if (permission === "owner") return false;
    return SCOPE_RANK[actor.tokenScope ?? "read"] >= SCOPE_RANK[permission];
  }
  return true;
}

/** A member may change their own rows; admins and owners anyone's in the workspace. */
export function canManage(actor: Actor, createdById: string | null | undefined): boolean {
  if (hasRole(actor, "admin") && (actor.via !== "token" || actor.tokenScope === "admin")) return true;
  return hasRole(actor, "member") && !!createdById && createdById === actor.userId;
}

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface RouteDefinition<
  P extends Schema | undefined,
  Q extends Schema | undefined,
  B extends Schema | undefined,
> {
  /** one line for the API reference (GET /api/openapi.json) */
  summary?: string;
  /** what the route needs; see Permission. Every route declares one. */
  permission?: Permission;
  /**
   * @deprecated use `permission`. "none" = "public"; "user" = "read" on GET/HEAD and "write"
   * on other methods (kept while routes migrate).
   */
  auth?: "user" | "none";
  schemas?: { params?: P; query?: Q; body?: B };
  /** largest accepted JSON body, bytes */
  maxBodyBytes?: number;
  /**
   * An audit event recorded once the handler answered 2xx (launches, cancels, deletions, secret
   * changes): who and from where come from the request; return null to record nothing.
   */
  audit?: (ctx: { params: Out<P>; body: Out<B>; actor: Actor; result: unknown }) => AuditNote | null;
  handler: (ctx: {
    req: Request;
    params: Out<P>;
    query: Out<Q>;
    body: Out<B>;
    actor: Actor;
  }) => Promise<Response | unknown>;
}

/** What a route's `audit` records: a dotted verb (teacher.delete) and what it acted on. */
export interface AuditNote {
  action: string;
  targetType?: string;
  targetId?: string;
  data?: Record<string, unknown>;
}
type AuditRecorder = (req: Request, actor: Actor, note: AuditNote) => Promise<void>;
let recordAuditImpl: AuditRecorder | undefined;
/** Wired once by the app (lib/server/actor.ts): writes a route's audit note to the audit log. */
export function setAuditRecorder(recorder: AuditRecorder) {
  recordAuditImpl = recorder;
}

/** The id in a handler's JSON answer ({ id } or { <thing>: { id } }), for audit targets. */
export function resultId(result: unknown, key?: string): string | undefined {
  const r = result as Record<string, unknown> | null;
  if (!r || typeof r !== "object") return undefined;
  const inner = key ? (r[key] as Record<string, unknown> | undefined) : r;
  return typeof inner?.id === "string" ? inner.id : undefined;
}

type RequestGuard = (req: Request) => AppError | null;
let guardRequestImpl: RequestGuard | undefined;
/**
 * Wired once by the app (lib/server/actor.ts): the DNS-rebinding and cross-site checks every API
 * route runs first (the page proxy does the same for pages).
 */
export function setRequestGuard(guard: RequestGuard) {
  guardRequestImpl = guard;
}

type ActorResolver = (req: Request) => Promise<ResolvedActor | null>;
let resolveActorImpl: ActorResolver | undefined;
/** Wired once by the app (lib/server/actor.ts): null means nobody is signed in. */
export function setActorResolver(resolver: ActorResolver) {
  resolveActorImpl = resolver;
}

export const ANONYMOUS: Actor = {
  userId: "",
  workspaceId: "",
  name: "anonymous",
  email: "",
  role: "viewer",
  via: "anonymous",
};

/** The permission a definition declares (legacy `auth` mapped); throws when it declares none. */
export function permissionOf(
  def: { permission?: Permission; auth?: "user" | "none" },
  method: string,
): Permission {
  if (def.permission) return def.permission;
  if (def.auth === "none") return "public";
  if (def.auth === "user") return method === "GET" || method === "HEAD" ? "read" : "write";
  throw new Error("route declares no permission");
}

async function resolveActor(req: Request): Promise<Actor> {
  if (!resolveActorImpl) throw new Error("no actor resolver configured");
  const resolved = await resolveActorImpl(req);
  if (!resolved) return ANONYMOUS;
  return { ...resolved, role: resolved.role ?? "owner", via: resolved.via ?? "local" };
}

async function authorize(req: Request, permission: Permission): Promise<Actor> {
  if (permission === "public") return ANONYMOUS;
  const actor = await resolveActor(req);
  if (actor.via === "anonymous") throw new AppError("unauthorized", "sign in first");
  if (!isAllowed(actor, permission)) {
    const why =
      actor.via === "token" && hasRole(actor, ROLE_FOR[permission === "account" ? "read" : permission])
        ? `this token's scope (${actor.tokenScope}) does not allow it`
        : `this needs the ${permission} permission`;
    throw new AppError("forbidden", why);
  }
  return actor;
}

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
  const text = await readBodyText(req, maxBytes);
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
  if (!def.permission && !def.auth) throw new Error("withRoute: the route declares no permission");
  const route = async (
    req: Request,
    context?: { params?: Promise<Record<string, string | string[]>> },
  ): Promise<Response> => {
    const path = new URL(req.url).pathname;
    try {
      const refused = guardRequestImpl?.(req);
      if (refused) throw refused;
      const actor = await authorize(req, permissionOf(def, req.method));
      const rawParams = (await context?.params) ?? {};
      if (hasNulByte(rawParams))
        throw new AppError("not_found", "no such resource (the id holds a NUL byte)");
      const rawQuery = Object.fromEntries(new URL(req.url).searchParams);
      if (hasNulByte(rawQuery)) {
        const field = Object.keys(rawQuery).find((k) => rawQuery[k]?.includes("\u0000")) ?? "";
        throw new AppError("bad_request", `query.${field} holds a NUL byte`, [
          { field: `query.${field}`, message: "holds a NUL byte" },
        ]);
      }
      const params = parsePart("params", def.schemas?.params, rawParams);
      const query = parsePart("query", def.schemas?.query, rawQuery);
      const body = def.schemas?.body
        ? parsePart("body", def.schemas.body, await readJson(req, def.maxBodyBytes ?? 1_000_000))
        : (undefined as Out<B>);
      const result = await def.handler({ req, params, query, body, actor });
      if (def.audit && recordAuditImpl && (!(result instanceof Response) || result.ok)) {
        const note = def.audit({ params, body, actor, result: result instanceof Response ? null : result });
        if (note) await recordAuditImpl(req, actor, note);
      }
      if (result instanceof Response) return result;
      return Response.json(result ?? null, { headers: { "cache-control": "no-store" } });
    } catch (e) {
      if (e instanceof AppError) return problemResponse(e, path);
      if (isNulByteError(e)) {
        // PostgreSQL stores no NUL in text (22P05 / 22021): input that holds one is the client's to fix
        return problemResponse(
          new AppError("bad_request", "the request holds a NUL byte (\\u0000), which text cannot store"),
          path,
        );
      }
      console.error(`[web] ${req.method} ${path} failed:`, e);
      return problemResponse(new AppError("internal", "internal error; see the server log"), path);
    }
  };
  // read by the route-permission test and the OpenAPI generator
  return Object.assign(route, {
    definition: def as RouteDefinition<Schema | undefined, Schema | undefined, Schema | undefined>,
  });
}
