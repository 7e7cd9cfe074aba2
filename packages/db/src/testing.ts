export { createTestDatabase } from "./test-database.ts";
export { testAdminDatabaseUrl } from "./test-env.ts";
