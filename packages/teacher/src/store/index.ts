export * from "./generation-jobs.ts";
export * from "./teachers.ts";
