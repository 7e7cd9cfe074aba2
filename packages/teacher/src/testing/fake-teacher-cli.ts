#!/usr/bin/env -S npx tsx
/**
 * The fake teacher as a process (the benchmark, the demo and e2e start it this way):
 *   tsx fake-teacher-cli.ts [--port N] [--delay-ms N] [--chunk-interval-ms N] [--tokens N] [--reasoning reasoning_content|reasoning|inline|none]
 *                           [--api-key K] [--model M] [--record-timings]
 * Prints one line `{"url": "...", "baseUrl": ".../v1"}` when it listens; stops on SIGTERM.
 */
import { parseArgs } from "node:util";
import { type ReasoningShape, startFakeTeacher } from "./fake-teacher-server.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    "delay-ms": { type: "string" },
    "chunk-interval-ms": { type: "string" },
    tokens: { type: "string" },
    reasoning: { type: "string" },
    "api-key": { type: "string" },
    model: { type: "string", multiple: true },
    "record-timings": { type: "boolean" },
  },
});
const teacher = await startFakeTeacher({
  ...(values.port ? { port: Number(values.port) } : {}),
  ...(values["delay-ms"] ? { delayMs: Number(values["delay-ms"]) } : {}),
  ...(values["chunk-interval-ms"] ? { chunkIntervalMs: Number(values["chunk-interval-ms"]) } : {}),
  ...(values.tokens ? { tokens: Number(values.tokens) } : {}),
  ...(values.reasoning ? { reasoning: values.reasoning as ReasoningShape } : {}),
  ...(values["api-key"] ? { apiKey: values["api-key"] } : {}),
  ...(values.model ? { models: values.model } : {}),
  ...(values["record-timings"] ? { recordTimings: true } : {}),
});
process.stdout.write(`${JSON.stringify({ url: teacher.url, baseUrl: teacher.baseUrl })}\n`);
const stop = () => void teacher.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
