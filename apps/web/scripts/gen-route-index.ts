// Writes features/openapi/route-index.ts: one import per route file under app/, so the OpenAPI
// document (GET /api/openapi.json) covers every route. `npm run openapi:index -w apps/web`;
// features/openapi/route-index.test.ts fails when the index is out of date.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { listRouteFiles, renderRouteIndex } from "../features/openapi/route-files.ts";

const appDir = fileURLToPath(new URL("../app", import.meta.url));
const out = fileURLToPath(new URL("../features/openapi/route-index.ts", import.meta.url));
writeFileSync(out, renderRouteIndex(listRouteFiles(appDir)));
console.log(`wrote ${out}`);
