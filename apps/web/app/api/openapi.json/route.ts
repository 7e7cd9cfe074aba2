import { buildOpenApiDocument } from "@/features/openapi/build-document.ts";
import { ROUTE_MODULES } from "@/features/openapi/route-index.ts";
import { getEnv, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";

let cached: unknown;

/** OpenAPI 3.1 of every route, generated from the zod schemas the routes parse with. */
export const GET = withRoute({
  permission: "public",
  summary: "This document",
  handler: async () => {
    cached ??= buildOpenApiDocument(ROUTE_MODULES, { version: "0.1.0", serverUrl: getEnv().DISTILLERY_PUBLIC_URL });
    return Response.json(cached, { headers: { "cache-control": "no-store" } });
  },
});
