export * from "./fake-teacher-server.ts";
