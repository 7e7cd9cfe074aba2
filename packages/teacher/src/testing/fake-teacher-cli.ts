#!/usr/bin/env -S npx tsx
/**
 * The fake teacher as a process (the benchmark, the demo and e2e start it this way):
 *   tsx fake-teacher-cli.ts [--port N] [--delay-ms N] [--chunk-interval-ms N] [--tokens N] [--reasoning reasoning_content|reasoning|inline|none]
 *                           [--api-key K] [--model M] [--record-timings] [--fault KIND:TIMES:MATCH]…
 * --fault 500:5:"What is 31 +" answers HTTP 500 to the first 5 requests whose prompt holds the text.
 * Prints one line `{"url": "...", "baseUrl": ".../v1"}` when it listens; stops on SIGTERM.
 */
import { parseArgs } from "node:util";
import { type FaultKind, type ReasoningShape, startFakeTeacher } from "./fake-teacher-server.ts";

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
    fault: { type: "string", multiple: true },
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
  ...(values.fault
    ? {
        faults: values.fault.map((f) => {
          const [kind, times, ...match] = f.split(":");
          return {
            kind: kind as FaultKind,
            times: Number(times ?? 1),
            ...(match.length ? { match: match.join(":") } : {}),
          };
        }),
      }
    : {}),
});
process.stdout.write(`${JSON.stringify({ url: teacher.url, baseUrl: teacher.baseUrl })}\n`);
const stop = () => void teacher.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
