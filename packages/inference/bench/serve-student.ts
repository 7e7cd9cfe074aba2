/**
 * The serving side of bench:serve, in its own process (as the web app is to its clients):
 * `serve-student.ts <modelDir> <engine|ort>` prints `ready <url>` once the model is loaded.
 */
import { handleChatCompletions } from "../src/openai/handle-v1.ts";
import { createModelPool } from "../src/pool/model-pool.ts";
import { serveOverHttp } from "../src/testing/serve-over-http.ts";

const [modelDir, backend] = process.argv.slice(2);
if (!modelDir || (backend !== "engine" && backend !== "ort")) {
  console.error("usage: serve-student.ts <modelDir> <engine|ort>");
  process.exit(2);
}
const pool = createModelPool({
  budgetBytes: 1 << 30,
  slots: 8,
  threads: 1,
  backend,
  resolve: async () => ({ modelDir, templateId: "phi3" }),
});
await pool.acquire("student");
const server = await serveOverHttp({
  "POST /v1/chat/completions": (req) => handleChatCompletions({ pool }, req),
});
console.log(`ready ${server.url}`);
process.on("SIGTERM", () => {
  void server
    .close()
    .then(() => pool.close())
    .then(() => process.exit(0));
});
