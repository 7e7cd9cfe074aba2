import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Db } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";
import { type Handler, TestBrowser } from "./test-client.ts";

vi.mock("server-only", () => ({}));
process.env.DISTILLERY_AUTH = "accounts";
// teacher API keys are sealed with a key kept in the data dir
process.env.DISTILLERY_DATA_DIR = mkdtempSync(join(tmpdir(), "accounts-test-"));

/** First start, sign-in, invitations, roles and tokens through the real routes and Postgres. */
let db: Db;
let drop: (() => Promise<void>) | undefined;
let stopServices: (() => Promise<void>) | undefined;
type RouteName =
  | "authGet"
  | "authPost"
  | "setupGet"
  | "setupPost"
  | "me"
  | "invite"
  | "inviteInfo"
  | "accept"
  | "members"
  | "member"
  | "tokens"
  | "revoke"
  | "audit"
  | "teacherCreate"
  | "teacherPatch"
  | "teacherDelete"
  | "runEvents"
  | "priority"
  | "queue";
const r = {} as Record<RouteName, Handler>;

beforeAll(async () => {
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;
  const auth = await import("@/app/api/auth/[...all]/route.ts");
  r.authGet = auth.GET;
  r.authPost = auth.POST;
  const setup = await import("@/app/api/setup/route.ts");
  r.setupGet = setup.GET;
  r.setupPost = setup.POST;
  r.me = (await import("@/app/api/me/route.ts")).GET;
  r.invite = (await import("@/app/api/invitations/route.ts")).POST;
  const accept = await import("@/app/api/invitations/[secret]/route.ts");
  r.inviteInfo = accept.GET;
  r.accept = accept.POST;
  r.members = (await import("@/app/api/members/route.ts")).GET;
  r.member = (await import("@/app/api/members/[userId]/route.ts")).PATCH;
  r.tokens = (await import("@/app/api/tokens/route.ts")).POST;
  r.revoke = (await import("@/app/api/tokens/[tokenId]/route.ts")).DELETE;
  r.audit = (await import("@/app/api/audit/route.ts")).GET;
  r.teacherCreate = (await import("@/app/api/teachers/route.ts")).POST;
  const teacher = await import("@/app/api/teachers/[teacherId]/route.ts");
  r.teacherPatch = teacher.PATCH;
  r.teacherDelete = teacher.DELETE;
  r.runEvents = (await import("@/app/api/runs/[runId]/events/route.ts")).GET;
  r.priority = (await import("@/app/api/runs/[runId]/priority/route.ts")).PATCH;
  r.queue = (await import("@/app/api/queue/route.ts")).GET;
}, 120_000);
afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  const context = getContext();
  await context.producer.close();
  context.redis.disconnect();
  await context.db.$disconnect();
  await drop?.();
  await stopServices?.();
});

const owner = new TestBrowser();
const OWNER = { name: "Olive Owner", email: "olive@example.com", password: "correct horse battery" };

describe("accounts", { timeout: 60_000 }, () => {
  it("leads the first visitor to create the owner, once", async () => {
    expect(await (await owner.call(r.setupGet, "/api/setup")).json()).toEqual({
      needsSetup: true,
      canStartLocally: true,
    });
    expect((await owner.call(r.me, "/api/me")).status).toBe(401);
    const res = await owner.call(r.setupPost, "/api/setup", { body: OWNER });
    expect(res.status).toBe(201);
    expect(res.headers.getSetCookie().join(";")).toMatch(/SameSite=Lax/i);
    const me = await (await owner.call(r.me, "/api/me")).json();
    expect(me).toMatchObject({ user: { email: OWNER.email }, role: "owner", workspaceId: "ws_default" });
    const again = await new TestBrowser().call(r.setupPost, "/api/setup", {
      body: { ...OWNER, email: "x@example.com" },
    });
    expect(again.status).toBe(409);
    expect(await db.user.count({ where: { email: "x@example.com" } })).toBe(0);
  });

  it("signs in with the right password only, and closes open sign-up", async () => {
    const b = new TestBrowser();
    const wrong = await b.call(r.authPost, "/api/auth/sign-in/email", {
      body: { email: OWNER.email, password: "nope nope nope" },
    });
    expect(wrong.status).toBe(401);
    expect(b.cookies.size).toBe(0);
    const ok = await b.call(r.authPost, "/api/auth/sign-in/email", {
      body: { email: OWNER.email, password: OWNER.password },
    });
    expect(ok.status).toBe(200);
    expect((await b.call(r.me, "/api/me")).status).toBe(200);
    const signUp = await new TestBrowser().call(r.authPost, "/api/auth/sign-up/email", {
      body: { name: "x", email: "y@example.com", password: "12345678910" },
    });
    expect(signUp.status).toBe(403);
    const events = await db.auditEvent.findMany({ where: { action: "auth.sign_in" } });
    expect(events.length).toBeGreaterThanOrEqual(2);
  });

  it("rate-limits sign-in per address", async () => {
    const b = new TestBrowser();
    const attempt = (ip: string) =>
      b.call(r.authPost, "/api/auth/sign-in/email", {
        body: { email: OWNER.email, password: "guessing guessing" },
        headers: { "x-forwarded-for": ip },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attempt("203.0.113.7")).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    // another address is not held back
    expect((await attempt("203.0.113.8")).status).toBe(401);
  });

  it("resets a password by a one-time link printed in the server log", async () => {
    const logged: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...args) => {
      logged.push(args.join(" "));
    });
    const b = new TestBrowser();
    const asked = await b.call(r.authPost, "/api/auth/request-password-reset", {
      body: { email: OWNER.email, redirectTo: "/reset-password" },
    });
    spy.mockRestore();
    expect(asked.status).toBe(200);
    const line = logged.find((l) => l.includes("[auth] password reset for olive@example.com"));
    const link = new URL(line?.match(/https?:\/\/\S+/)?.[0] ?? "");
    const opened = await b.call(r.authGet, link.pathname + link.search);
    expect(opened.status).toBe(302);
    const landing = new URL(opened.headers.get("location") ?? "", "http://localhost:3000");
    expect(landing.pathname).toBe("/reset-password");
    const token = landing.searchParams.get("token") ?? "";
    const reset = await b.call(r.authPost, "/api/auth/reset-password", {
      body: { newPassword: "a brand new password", token },
    });
    expect(reset.status).toBe(200);
    // single use
    const again = await b.call(r.authPost, "/api/auth/reset-password", {
      body: { newPassword: "yet another password", token },
    });
    expect(again.status).toBe(400);
    // the reset signed every session out: the owner signs in again with the new password
    expect((await owner.call(r.me, "/api/me")).status).toBe(401);
    const signIn = await owner.call(r.authPost, "/api/auth/sign-in/email", {
      body: { email: OWNER.email, password: "a brand new password" },
    });
    expect(signIn.status).toBe(200);
    OWNER.password = "a brand new password";
  });

  it("invites a viewer by link; the link works once", async () => {
    const inv = await owner.call(r.invite, "/api/invitations", { body: { role: "viewer" } });
    expect(inv.status).toBe(201);
    const { url } = await inv.json();
    const secret = new URL(url).pathname.split("/").pop() as string;
    expect(
      (await (await owner.call(r.inviteInfo, `/api/invitations/${secret}`, { params: { secret } })).json())
        .role,
    ).toBe("viewer");
    const viewer = new TestBrowser();
    const joined = await viewer.call(r.accept, `/api/invitations/${secret}`, {
      body: { account: { name: "Vic Viewer", email: "vic@example.com", password: "viewer password" } },
      params: { secret },
    });
    expect(joined.status).toBe(201);
    expect(await (await viewer.call(r.me, "/api/me")).json()).toMatchObject({
      role: "viewer",
      workspaceId: "ws_default",
    });
    const reuse = await new TestBrowser().call(r.accept, `/api/invitations/${secret}`, {
      body: { account: { name: "Eve", email: "eve@example.com", password: "eve password" } },
      params: { secret },
    });
    expect(reuse.status).toBe(409);
    expect(await db.user.count({ where: { email: "eve@example.com" } })).toBe(0);
    // a viewer cannot invite
    expect((await viewer.call(r.invite, "/api/invitations", { body: { role: "member" } })).status).toBe(403);
  });

  it("refuses an expired invitation and changes nothing", async () => {
    const inv = await (await owner.call(r.invite, "/api/invitations", { body: { role: "member" } })).json();
    await db.invitation.update({ where: { id: inv.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const secret = new URL(inv.url).pathname.split("/").pop() as string;
    const res = await new TestBrowser().call(r.accept, `/api/invitations/${secret}`, {
      body: { account: { name: "Late", email: "late@example.com", password: "late password" } },
      params: { secret },
    });
    expect(res.status).toBe(409);
    expect((await res.json()).detail).toMatch(/expired/);
    expect(await db.user.count({ where: { email: "late@example.com" } })).toBe(0);
  });

  it("keeps an owner: the last owner cannot be demoted", async () => {
    const me = await (await owner.call(r.me, "/api/me")).json();
    const res = await owner.call(r.member, `/api/members/${me.user.id}`, {
      method: "PATCH",
      body: { role: "admin" },
      params: { userId: me.user.id },
    });
    expect(res.status).toBe(409);
    expect((await res.json()).detail).toMatch(/without an owner/);
    expect((await db.membership.findFirst({ where: { userId: me.user.id } }))?.role).toBe("owner");
  });

  it("issues tokens shown once, stored hashed, capped by scope, revocable", async () => {
    const res = await owner.call(r.tokens, "/api/tokens", {
      body: { name: "ci", scope: "read", expiresInDays: 30 },
    });
    expect(res.status).toBe(201);
    const { token, id } = await res.json();
    expect(token).toMatch(/^dst_[0-9a-f]{8}_/);
    const row = await db.apiToken.findUniqueOrThrow({ where: { id } });
    expect(JSON.stringify(row)).not.toContain(token.slice(14));
    const script = new TestBrowser(token);
    expect(await (await script.call(r.me, "/api/me")).json()).toMatchObject({
      via: "token",
      tokenScope: "read",
      role: "owner",
    });
    expect((await script.call(r.invite, "/api/invitations", { body: { role: "member" } })).status).toBe(403);
    expect(
      (await owner.call(r.revoke, `/api/tokens/${id}`, { method: "DELETE", params: { tokenId: id } })).status,
    ).toBe(204);
    const revoked = await script.call(r.me, "/api/me");
    expect(revoked.status).toBe(401);
    expect((await revoked.json()).detail).toMatch(/revoked/);
    const foreign = await new TestBrowser(`dst_00000000_${"a".repeat(43)}`).call(r.me, "/api/me");
    expect((await foreign.json()).detail).toMatch(/another Distillery deployment/);
  });

  it("records role changes and token changes in the audit log, for admins", async () => {
    const res = await owner.call(r.audit, "/api/audit");
    const actions = (await res.json()).events.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["token.create", "token.revoke", "invitation.accept", "auth.sign_in"]),
    );
  });

  it("audits secret changes and deletions with who and from where; only admins read the log", async () => {
    const from = { "x-forwarded-for": "198.51.100.4" };
    const created = await owner.call(r.teacherCreate, "/api/teachers", {
      body: { name: "audited", baseUrl: "https://api.example.com/v1", model: "m", apiKey: "sk-first-secret" },
      headers: from,
    });
    expect(created.status).toBe(200);
    const teacherId = (await created.json()).id as string;
    const patch = (body: unknown) =>
      owner.call(r.teacherPatch, `/api/teachers/${teacherId}`, {
        method: "PATCH",
        body,
        params: { teacherId },
        headers: from,
      });
    expect((await patch({ apiKey: "sk-second-secret" })).status).toBe(200);
    expect((await patch({ model: "m2" })).status).toBe(200);
    const removed = await owner.call(r.teacherDelete, `/api/teachers/${teacherId}`, {
      method: "DELETE",
      params: { teacherId },
      headers: from,
    });
    expect(removed.status).toBe(200);
    // a refused change records nothing
    const missing = await owner.call(r.teacherDelete, "/api/teachers/tch_missing", {
      method: "DELETE",
      params: { teacherId: "tch_missing" },
    });
    expect(missing.status).toBe(404);

    const { events } = await (await owner.call(r.audit, "/api/audit?action=teacher")).json();
    const mine = (events as { action: string; targetId: string; ip: string; actorEmail: string }[])
      .filter((e) => e.targetId === teacherId)
      .map((e) => [e.action, e.ip, e.actorEmail]);
    expect(mine).toEqual([
      ["teacher.delete", "198.51.100.4", OWNER.email],
      ["teacher.update", "198.51.100.4", OWNER.email],
      ["teacher.secret_change", "198.51.100.4", OWNER.email],
      ["teacher.create", "198.51.100.4", OWNER.email],
    ]);
    expect(JSON.stringify(events)).not.toContain("secret-");
    expect(await db.auditEvent.count({ where: { targetId: "tch_missing" } })).toBe(0);

    const viewer = new TestBrowser();
    await viewer.call(r.authPost, "/api/auth/sign-in/email", {
      body: { email: "vic@example.com", password: "viewer password" },
    });
    expect((await viewer.call(r.me, "/api/me")).status).toBe(200);
    expect((await viewer.call(r.audit, "/api/audit")).status).toBe(403);
  });

  it("streams a run's events (SSE) to a Bearer token, never to a foreign one", async () => {
    const me = await (await owner.call(r.me, "/api/me")).json();
    await db.run.create({
      data: {
        id: "run_sse",
        workspaceId: "ws_default",
        name: "sse",
        config: {},
        status: "succeeded",
        launchedById: me.user.id,
        lastSeq: 1,
      },
    });
    await db.runEvent.createMany({
      data: [0, 1].map((seq) => ({
        workspaceId: "ws_default",
        runId: "run_sse",
        seq,
        type: "metric",
        step: seq + 1,
        data: {
          type: "metric",
          runId: "run_sse",
          seq,
          ts: 1000 + seq,
          step: seq + 1,
          values: { loss: 2 - seq },
        },
      })),
    });
    const { token } = await (
      await owner.call(r.tokens, "/api/tokens", { body: { name: "sse", scope: "read", expiresInDays: 1 } })
    ).json();
    const res = await new TestBrowser(token).call(r.runEvents, "/api/runs/run_sse/events", {
      params: { runId: "run_sse" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const text = await res.text();
    expect(text).toContain('"loss":1');
    expect(text).toContain("event: end");
    const foreign = await new TestBrowser(`dst_00000000_${"b".repeat(43)}`).call(
      r.runEvents,
      "/api/runs/run_sse/events",
      { params: { runId: "run_sse" } },
    );
    expect(foreign.status).toBe(401);
  });

  it("lets admins raise a waiting run's priority; the queue says why a run waits", async () => {
    const me = await (await owner.call(r.me, "/api/me")).json();
    for (const [id, minutesAgo] of [
      ["run_wait_a", 3],
      ["run_wait_b", 2],
    ] as const)
      await db.run.create({
        data: {
          id,
          workspaceId: "ws_default",
          name: id,
          engine: "hf",
          config: {},
          status: "queued",
          launchedById: me.user.id,
          createdAt: new Date(Date.now() - minutesAgo * 60_000),
        },
      });
    const viewer = new TestBrowser();
    await viewer.call(r.authPost, "/api/auth/sign-in/email", {
      body: { email: "vic@example.com", password: "viewer password" },
    });
    const raise = (who: TestBrowser, priority: number) =>
      who.call(r.priority, "/api/runs/run_wait_b/priority", {
        method: "PATCH",
        body: { priority },
        params: { runId: "run_wait_b" },
      });
    expect((await raise(viewer, 5)).status).toBe(403);
    expect((await db.run.findUniqueOrThrow({ where: { id: "run_wait_b" } })).priority).toBe(0);
    expect((await raise(owner, 99)).status).toBe(400);
    expect((await raise(owner, 5)).status).toBe(200);
    const queue = await (await viewer.call(r.queue, "/api/queue")).json();
    const waiting = (
      queue.waiting as { id: string; priority: number; waitReason: string; launchedBy: { name: string } }[]
    ).filter((w) => w.id.startsWith("run_wait_"));
    expect(waiting.map((w) => [w.id, w.priority])).toEqual([
      ["run_wait_b", 5],
      ["run_wait_a", 0],
    ]);
    expect(waiting.map((w) => w.waitReason)).toEqual([
      "next: waits for a free worker",
      "behind 1: 1 of higher priority",
    ]);
    expect(waiting[0]?.launchedBy.name).toBe(OWNER.name);
    const audit = await db.auditEvent.findFirst({
      where: { action: "run.priority", targetId: "run_wait_b" },
    });
    expect(audit?.data).toEqual({ from: 0, to: 5 });
  });
});
