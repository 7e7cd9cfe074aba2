import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { buildOpenApiDocument } from "./build-document.ts";
import { listRouteFiles, renderRouteIndex } from "./route-files.ts";

vi.mock("server-only", () => ({}));

const appDir = fileURLToPath(new URL("../../app", import.meta.url));
const indexFile = fileURLToPath(new URL("./route-index.ts", import.meta.url));

describe("OpenAPI", () => {
  it("indexes every route file (regenerate with `npm run openapi:index -w apps/web`)", () => {
    expect(readFileSync(indexFile, "utf8")).toBe(renderRouteIndex(listRouteFiles(appDir)));
  });

  it("describes every route with its permission and the schemas it parses", {
    timeout: 120_000,
  }, async () => {
    const { ROUTE_MODULES } = await import("./route-index.ts");
    const doc = buildOpenApiDocument(ROUTE_MODULES, { version: "test" });
    expect(doc.openapi).toBe("3.1.0");
    const launch = doc.paths["/api/runs"]?.post as Record<string, any>;
    expect(launch["x-permission"]).toBe("write");
    const config = launch.requestBody.content["application/json"].schema;
    expect(JSON.stringify(config)).toContain("learningRate");
    const cancel = doc.paths["/api/runs/{runId}/cancel"]?.post as Record<string, any>;
    expect(cancel.parameters).toEqual([
      expect.objectContaining({ name: "runId", in: "path", required: true }),
    ]);
    const operations = Object.values(doc.paths).flatMap((p) => Object.values(p));
    expect(operations.length).toBeGreaterThan(40);
    for (const op of operations) expect((op as { "x-permission"?: string })["x-permission"]).toBeTruthy();
  });
});
