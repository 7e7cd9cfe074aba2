/** The admin URL of the test PostgreSQL (set by the vitest global setup or by `npm test`). */
export function testAdminDatabaseUrl(): string {
  const url = process.env.TEST_ADMIN_DATABASE_URL;
  if (!url)
    throw new Error(
      "TEST_ADMIN_DATABASE_URL is not set: run the tests through vitest's global setup or npm test",
    );
  return url;
}
