export { EXIT } from "./exit-codes.ts";
export { buildProgram } from "./main.ts";
