import { describe, expect, it } from "vitest";
import { ZDatabaseUrl, ZRedisUrl } from "./service-urls.ts";

describe("service URLs", () => {
  it("accepts the URLs production uses", () => {
    expect(ZDatabaseUrl.safeParse("postgresql://u:p@db:5432/distillery").success).toBe(true);
    expect(ZDatabaseUrl.safeParse("postgres://db/x").success).toBe(true);
    expect(ZRedisUrl.safeParse("rediss://cache:6380").success).toBe(true);
  });

  it("says what is wrong with a malformed one, with an example", () => {
    const bad = ZDatabaseUrl.safeParse("mysql://db/x");
    expect(bad.error?.issues[0]?.message).toBe(
      "must be a postgresql:// or postgres:// URL with a host (e.g. postgresql://user:pass@host:5432/distillery)",
    );
    expect(ZRedisUrl.safeParse("not a url").error?.issues[0]?.message).toMatch(
      /^must be a redis:\/\/ or rediss:\/\/ URL/,
    );
    expect(ZRedisUrl.safeParse(undefined).error?.issues[0]?.message).toBe(
      "is required (e.g. redis://127.0.0.1:6379)",
    );
  });
});
