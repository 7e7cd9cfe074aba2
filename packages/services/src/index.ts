export * from "./ensure-debian-package.ts";
export * from "./free-port.ts";
export * from "./start-postgres.ts";
export * from "./start-redis.ts";
export * from "./start-services.ts";
export * from "./supervisor.ts";
