export { createTestDatabase } from "./test-database.ts";
export { createTestDatabaseWithWorker } from "./test-database-with-worker.ts";
export { testAdminDatabaseUrl } from "./test-env.ts";
