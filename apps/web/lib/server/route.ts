import "server-only";
import "./actor.ts";

export { AppError } from "./app-error.ts";
export { getContext } from "./context.ts";
export { getEnv } from "./env.ts";
export { withRoute } from "./with-route.ts";
