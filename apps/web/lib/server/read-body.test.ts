import { describe, expect, it } from "vitest";
import { z } from "zod";
import { setActorResolver, withRoute } from "./with-route.ts";

setActorResolver(async () => ({ userId: "u1", workspaceId: "ws1", name: "Test", email: "t@example.com" }));

let handled = 0;
const route = withRoute({
  permission: "write",
  schemas: { params: z.object({ id: z.string() }), body: z.object({ name: z.string() }) },
  maxBodyBytes: 1_000_000,
  handler: async ({ params }) => {
    handled++;
    return { id: params.id };
  },
});
const params = (id: string) => ({ params: Promise.resolve({ id }) });

/** A 300 MB body made on demand: `pulled` counts the bytes the server actually read. */
function hugeBody() {
  const chunk = new Uint8Array(1 << 20).fill(0x20);
  const total = 300 * (1 << 20);
  const state = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= total) return controller.close();
      state.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, state };
}

describe("body limits", () => {
  it("refuses a 300 MB body without a Content-Length after reading just past the limit", async () => {
    const { stream, state } = hugeBody();
    const req = new Request("http://x/api/runs", {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit);
    const res = await route(req, params("r1"));
    expect(res.status).toBe(413);
    expect((await res.json()).detail).toMatch(/over 1000000 bytes/);
    // read at most the limit plus one chunk, never the 300 MB
    expect(state.pulled).toBeLessThanOrEqual(1_000_000 + 2 * (1 << 20));
    expect(handled).toBe(0);
  });

  it("refuses a body whose Content-Length is over the limit before reading any of it", async () => {
    const { stream, state } = hugeBody();
    const req = new Request("http://x/api/runs", {
      method: "POST",
      body: stream,
      duplex: "half",
      headers: { "content-length": String(300 * (1 << 20)) },
    } as RequestInit);
    const res = await route(req, params("r1"));
    expect(res.status).toBe(413);
    expect(state.pulled).toBeLessThanOrEqual(1 << 20);
    expect(handled).toBe(0);
  });

  it("takes a body within the limit", async () => {
    const req = new Request("http://x/api/runs", { method: "POST", body: JSON.stringify({ name: "ok" }) });
    const res = await route(req, params("r1"));
    expect(res.status).toBe(200);
  });
});

describe("NUL bytes in ids", () => {
  it("answers 404 for an id with %00, never reaching the handler", async () => {
    const before = handled;
    const req = new Request("http://x/api/runs/r%00", {
      method: "POST",
      body: JSON.stringify({ name: "x" }),
    });
    const res = await route(req, params("r\u0000"));
    expect(res.status).toBe(404);
    expect(handled).toBe(before);
  });

  it("answers 400, not 500, when PostgreSQL refuses a NUL byte the handler passed on", async () => {
    const store = withRoute({
      permission: "write",
      handler: async () => {
        throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: "22021" });
      },
    });
    const res = await store(new Request("http://x/api/things", { method: "POST" }));
    expect(res.status).toBe(400);
    expect((await res.json()).detail).toMatch(/NUL byte/);
  });

  it("answers 400 naming the query field that holds a NUL", async () => {
    const get = withRoute({ permission: "read", handler: async () => ({}) });
    const res = await get(new Request("http://x/api/runs?status=a%00b"));
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toMatch(/query\.status/);
  });
});
