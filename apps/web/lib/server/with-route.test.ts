import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError } from "./app-error.ts";
import {
  type Actor,
  canManage,
  type Permission,
  permissionOf,
  setActorResolver,
  withRoute,
} from "./with-route.ts";

setActorResolver(async () => ({ userId: "u1", workspaceId: "ws1", name: "Test", email: "t@example.com" }));

const post = (body: string, url = "http://x/api/things?limit=5") =>
  new Request(url, { method: "POST", body, headers: { "content-type": "application/json" } });

const route = withRoute({
  auth: "user",
  schemas: {
    params: z.object({ id: z.string().regex(/^t_/, "must start with t_") }),
    query: z.object({ limit: z.coerce.number().int().max(10) }),
    body: z.object({
      name: z.string().min(1, "name is required"),
      lr: z.number().positive("must be positive"),
    }),
  },
  handler: async ({ params, query, body, actor }) => ({
    id: params.id,
    limit: query.limit,
    name: body.name,
    by: actor.userId,
  }),
});
const params = (id: string) => ({ params: Promise.resolve({ id }) });

describe("withRoute", () => {
  it("parses params, query and body and resolves the actor", async () => {
    const res = await route(post(JSON.stringify({ name: "a", lr: 1e-4 })), params("t_1"));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: "t_1", limit: 5, name: "a", by: "u1" });
  });

  it("answers an invalid body with a 400 problem+json naming every field", async () => {
    const res = await route(post(JSON.stringify({ name: "", lr: -1 })), params("t_1"));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = await res.json();
    expect(problem).toMatchObject({ status: 400, code: "validation_failed", instance: "/api/things" });
    expect(problem.errors).toEqual([
      { field: "body.name", message: "name is required" },
      { field: "body.lr", message: "must be positive" },
    ]);
  });

  it("names a bad path parameter and a bad query parameter", async () => {
    const badParam = await (await route(post(JSON.stringify({ name: "a", lr: 1 })), params("x"))).json();
    expect(badParam.errors[0]).toEqual({ field: "params.id", message: "must start with t_" });
    const badQuery = await route(
      post(JSON.stringify({ name: "a", lr: 1 }), "http://x/api/things?limit=50"),
      params("t_1"),
    );
    expect((await badQuery.json()).errors[0].field).toBe("query.limit");
  });

  it("refuses a body that is not JSON", async () => {
    const res = await route(post("{nope"), params("t_1"));
    expect(res.status).toBe(400);
    expect((await res.json()).detail).toMatch(/not valid JSON/);
  });

  it("maps AppError codes to statuses and hides unexpected errors", async () => {
    const notFound = withRoute({
      auth: "none",
      handler: async () => {
        throw new AppError("not_found", "run r1 not found");
      },
    });
    const res = await notFound(new Request("http://x/api/runs/r1"));
    expect(res.status).toBe(404);
    expect((await res.json()).detail).toBe("run r1 not found");
    const boom = withRoute({
      auth: "none",
      handler: async () => {
        throw new Error("secret stack detail");
      },
    });
    const res2 = await boom(new Request("http://x/api/boom"));
    expect(res2.status).toBe(500);
    expect(JSON.stringify(await res2.json())).not.toContain("secret");
  });
});

describe("withRoute permissions", () => {
  const base = { userId: "u1", workspaceId: "ws1", name: "T", email: "t@example.com" };
  const call = async (actor: Partial<Actor> | null, permission: Permission, method = "GET") => {
    setActorResolver(async () => (actor ? { ...base, ...actor } : null));
    const route = withRoute({ permission, handler: async ({ actor }) => ({ role: actor.role }) });
    const res = await route(new Request("http://x/api/p", { method }));
    setActorResolver(async () => base);
    return res.status;
  };

  it("refuses a definition without a permission", () => {
    expect(() => withRoute({ handler: async () => null } as never)).toThrow(/declares no permission/);
  });

  it("answers 401 to nobody and 403 to a role below the permission", async () => {
    expect(await call(null, "read")).toBe(401);
    expect(await call(null, "public")).toBe(200);
    expect(await call({ role: "viewer", via: "session" }, "read")).toBe(200);
    expect(await call({ role: "viewer", via: "session" }, "write")).toBe(403);
    expect(await call({ role: "member", via: "session" }, "write")).toBe(200);
    expect(await call({ role: "member", via: "session" }, "admin")).toBe(403);
    expect(await call({ role: "admin", via: "session" }, "owner")).toBe(403);
    expect(await call({ role: "owner", via: "session" }, "owner")).toBe(200);
    expect(await call({ role: "member", via: "session", workspaceId: "" }, "read")).toBe(403);
    expect(await call({ role: "member", via: "session", workspaceId: "" }, "account")).toBe(200);
  });

  it("caps a token by its scope, whatever the role", async () => {
    expect(await call({ role: "owner", via: "token", tokenScope: "read" }, "read")).toBe(200);
    expect(await call({ role: "owner", via: "token", tokenScope: "read" }, "write")).toBe(403);
    expect(await call({ role: "owner", via: "token", tokenScope: "write" }, "write")).toBe(200);
    expect(await call({ role: "owner", via: "token", tokenScope: "write" }, "admin")).toBe(403);
    expect(await call({ role: "viewer", via: "token", tokenScope: "admin" }, "write")).toBe(403);
    expect(await call({ role: "owner", via: "token", tokenScope: "admin" }, "owner")).toBe(403);
  });

  it("maps the legacy auth field by method", () => {
    expect(permissionOf({ auth: "user" }, "GET")).toBe("read");
    expect(permissionOf({ auth: "user" }, "POST")).toBe("write");
    expect(permissionOf({ auth: "none" }, "POST")).toBe("public");
  });

  it("lets members manage their own rows and admins anyone's", () => {
    const member = { ...base, role: "member", via: "session" } as Actor;
    expect(canManage(member, "u1")).toBe(true);
    expect(canManage(member, "u2")).toBe(false);
    expect(canManage({ ...member, role: "admin" }, "u2")).toBe(true);
    expect(canManage({ ...member, role: "viewer" }, "u1")).toBe(false);
  });
});
