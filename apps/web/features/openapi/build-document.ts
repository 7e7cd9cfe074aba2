import { z } from "zod";
import type { Permission, RouteDefinition } from "@/lib/server/with-route.ts";
import { permissionOf } from "@/lib/server/with-route.ts";

type AnyDefinition = RouteDefinition<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

const PERMISSION_TEXT: Record<Permission, string> = {
  public: "No sign-in.",
  account: "Any signed-in user.",
  read: "Viewer and up; any token scope.",
  write: "Member and up; token scope write or admin.",
  admin: "Admin and up; token scope admin.",
  owner: "Owner only; not with a token.",
};

function toSchema(schema: z.ZodType): Record<string, unknown> {
  // the input side: what a client sends (defaults are optional, coercions take strings)
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** Path or query parameters from an object schema's properties. */
function parametersOf(schema: z.ZodType | undefined, where: "path" | "query") {
  if (!schema) return [];
  const json = toSchema(schema);
  const props = (json.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || required.has(name),
    ...(typeof s.description === "string" ? { description: s.description } : {}),
    schema: s,
  }));
}

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

/**
 * OpenAPI 3.1 from the route definitions themselves: the zod schemas each route parses with are
 * the only source (no second description to drift), and the declared permission of each.
 */
export function buildOpenApiDocument(
  routes: { path: string; module: Record<string, unknown> }[],
  info: { version: string; serverUrl?: string },
) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { path, module } of routes) {
    for (const method of METHODS) {
      const handler = module[method] as { definition?: AnyDefinition } | undefined;
      const def = handler?.definition;
      if (!def) continue;
      const permission = permissionOf(def, method);
      const body = def.schemas?.body;
      const operation: Record<string, unknown> = {
        operationId: `${method.toLowerCase()}${path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
        tags: [path.split("/")[2] ?? "api"],
        summary: def.summary ?? `${method} ${path}`,
        description: `Permission: \`${permission}\`. ${PERMISSION_TEXT[permission]}`,
        "x-permission": permission,
        parameters: [
          ...parametersOf(def.schemas?.params, "path"),
          ...parametersOf(def.schemas?.query, "query"),
        ],
        ...(body
          ? { requestBody: { required: true, content: { "application/json": { schema: toSchema(body) } } } }
          : {}),
        responses: {
          "200": {
            description: "Success (JSON; 201 when something is created, 204 when nothing is returned)",
          },
          "400": problem("Invalid input: `errors` names each field (`body.training.learningRate`)"),
          ...(permission === "public"
            ? {}
            : { "401": problem("Not signed in, or a bad, expired or revoked token") }),
          ...(permission === "public" || permission === "account"
            ? {}
            : { "403": problem("The role or token scope is below the permission") }),
          "404": problem("Not found (including another workspace's ids)"),
        },
        ...(permission === "public" ? { security: [] } : {}),
      };
      paths[path] ??= {};
      (paths[path] as Record<string, unknown>)[method.toLowerCase()] = operation;
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Distillery API",
      version: info.version,
      description:
        "The studio's REST API. Authenticate with `Authorization: Bearer dst_…` (an API token from the Tokens page) or a browser session. Errors are RFC 9457 problem+json.",
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "API token (dst_…), scope read, write or admin",
        },
        session: { type: "apiKey", in: "cookie", name: "distillery.session_token" },
      },
      schemas: {
        Problem: {
          type: "object",
          properties: {
            type: { type: "string" },
            title: { type: "string" },
            status: { type: "integer" },
            detail: { type: "string" },
            instance: { type: "string" },
            code: { type: "string" },
            errors: {
              type: "array",
              items: {
                type: "object",
                properties: { field: { type: "string" }, message: { type: "string" } },
              },
            },
          },
        },
      },
    },
    paths,
  };
}
