export * from "./connections.ts";
export * from "./event-bus.ts";
export * from "./payloads.ts";
export * from "./producer.ts";
export * from "./queues.ts";
export * from "./redis-outage.ts";
export * from "./shutdown.ts";
