import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { type Db, DEFAULT_WORKSPACE_ID } from "@distillery/db";
import { createTestDatabase, testAdminDatabaseUrl } from "@distillery/db/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTestServices } from "@/features/runs/server/test-services.ts";
import type { Permission } from "@/lib/server/with-route.ts";
import { type Handler, TestBrowser } from "./test-client.ts";

vi.mock("server-only", () => ({}));
process.env.DISTILLERY_AUTH = "accounts";
process.env.QUEUE_PREFIX = `rm${process.pid}`;

/**
 * Every route handler under app/ against every kind of caller. A new route without a permission
 * fails here (its module throws, or its export is not a withRoute handler). Expectations:
 * nobody signed in (and expired or revoked tokens) → 401; a role or token scope below the
 * route's permission → 403; an admin of another workspace never gets workspace A's rows
 * (A's ids answer 404, A's names never appear in a list).
 */
const APP_DIR = fileURLToPath(new URL("../../../app", import.meta.url));
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const SECRET_MARK = "matrixsecretA";

function findRouteFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findRouteFiles(path);
    return name === "route.ts" ? [path] : [];
  });
}

interface RouteCase {
  file: string;
  path: string;
  method: (typeof METHODS)[number];
  handler: Handler;
  permission: Permission;
}

let db: Db;
let drop: (() => Promise<void>) | undefined;
let stopServices: (() => Promise<void>) | undefined;
const cases: RouteCase[] = [];
const ids: Record<string, string> = {};
const actors: Record<string, TestBrowser> = {};
const homes: Record<string, string> = {};

async function signUp(email: string, workspaceId: string, role: string): Promise<TestBrowser> {
  const { getAuth } = await import("./auth.ts");
  const auth = await getAuth();
  const { headers, response } = await auth.api.signUpEmail({
    body: { name: email.split("@")[0] as string, email, password: "matrix password" },
    returnHeaders: true,
  });
  await db.membership.create({
    data: { id: `mem_${response.user.id}`, workspaceId, userId: response.user.id, role },
  });
  await db.user.update({ where: { id: response.user.id }, data: { workspaceId } });
  const browser = new TestBrowser();
  for (const c of headers.getSetCookie()) {
    const [pair] = c.split(";");
    const i = pair?.indexOf("=") ?? -1;
    if (pair && i > 0) browser.cookies.set(pair.slice(0, i), pair.slice(i + 1));
  }
  homes[response.user.id] = workspaceId;
  ids[`user:${role}:${workspaceId}`] = response.user.id;
  return browser;
}

beforeAll(async () => {
  stopServices = await ensureTestServices();
  process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  const created = await createTestDatabase(testAdminDatabaseUrl());
  ({ db, drop } = created);
  process.env.DATABASE_URL = created.url;

  for (const file of findRouteFiles(APP_DIR).sort()) {
    const mod = (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
    const path = `/${relative(APP_DIR, file).replace(/\/route\.ts$/, "")}`;
    for (const method of METHODS) {
      const handler = mod[method] as
        | (Handler & { definition?: { permission?: Permission; auth?: string } })
        | undefined;
      if (!handler) continue;
      const def = handler.definition;
      if (!def) throw new Error(`${path} ${method} is not defined with withRoute (no declared permission)`);
      const { permissionOf } = await import("@/lib/server/with-route.ts");
      cases.push({ file, path, method, handler, permission: permissionOf(def as never, method) });
    }
  }

  // workspace A (the default one) with a run, a dataset, a model, a job; workspace B elsewhere
  const { ensureDefaultWorkspace } = await import("@distillery/db");
  await ensureDefaultWorkspace(db);
  await db.workspace.create({ data: { id: "ws_b", slug: "b", name: "B" } });
  actors.owner = await signUp("owner@a.test", DEFAULT_WORKSPACE_ID, "owner");
  actors.viewer = await signUp("viewer@a.test", DEFAULT_WORKSPACE_ID, "viewer");
  actors.member = await signUp("member@a.test", DEFAULT_WORKSPACE_ID, "member");
  actors.adminOfB = await signUp("admin@b.test", "ws_b", "admin");
  const ownerId = ids[`user:owner:${DEFAULT_WORKSPACE_ID}`] as string;
  const ws = DEFAULT_WORKSPACE_ID;
  ids.runId = (
    await db.run.create({
      data: {
        id: "run_matrix",
        workspaceId: ws,
        name: `${SECRET_MARK} run`,
        config: {},
        launchedById: ownerId,
      },
    })
  ).id;
  ids.datasetId = (
    await db.dataset.create({
      data: { id: "ds_matrix", workspaceId: ws, name: `${SECRET_MARK} dataset`, createdById: ownerId },
    })
  ).id;
  ids.versionId = (
    await db.datasetVersion.create({
      data: {
        id: "dv_matrix",
        workspaceId: ws,
        datasetId: "ds_matrix",
        version: 1,
        operation: { kind: SECRET_MARK },
      },
    })
  ).id;
  ids.modelId = (
    await db.model.create({ data: { id: "mdl_matrix", workspaceId: ws, name: `${SECRET_MARK} model` } })
  ).id;
  ids.jobId = (
    await db.job.create({
      data: {
        id: "job_matrix",
        workspaceId: ws,
        kind: "dataset.import",
        input: { name: SECRET_MARK },
        createdById: ownerId,
      },
    })
  ).id;
  ids.artifactId = (
    await db.artifact.create({
      data: {
        id: "art_matrix",
        workspaceId: ws,
        runId: "run_matrix",
        kind: "adapter",
        name: SECRET_MARK,
        blobKey: "x",
      },
    })
  ).id;
  // a ready teacher-logits artifact of A's version under the same id (its own table): its DELETE
  // is tried by every caller, and a member (not its creator) is refused like the viewer
  await db.teacherLogits.create({
    data: {
      id: "art_matrix",
      workspaceId: ws,
      versionId: "dv_matrix",
      teacherModelId: "mdl_matrix",
      teacherName: `${SECRET_MARK} teacher`,
      maxSeqLength: 64,
      template: "phi3",
      status: "ready",
      createdById: ownerId,
    },
  });
  ids.userId = ids[`user:member:${ws}`] as string;
  ids.workspaceId = ws;

  const { createApiToken } = await import("./tokens.ts");
  const token = (scope: "read" | "write", expiresAt: Date | null) =>
    createApiToken(db, { userId: ownerId, workspaceId: ws, name: "m", scope, expiresAt });
  actors.readToken = new TestBrowser((await token("read", null)).token);
  actors.expiredToken = new TestBrowser((await token("write", new Date(Date.now() - 1000))).token);
  const revoked = await token("write", null);
  await db.apiToken.update({ where: { id: revoked.id }, data: { revokedAt: new Date() } });
  actors.revokedToken = new TestBrowser(revoked.token);
  ids.tokenId = revoked.id;
  actors.anonymous = new TestBrowser();
}, 300_000);

afterAll(async () => {
  const { getContext } = await import("@/lib/server/context.ts");
  const context = getContext();
  await context.producer.close().catch(() => {});
  context.redis.disconnect();
  await context.db.$disconnect();
  await drop?.();
  await stopServices?.();
});

function fillParams(path: string): { url: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  const url = path.replace(/\[(\.\.\.)?([A-Za-z]+)\]/g, (_m, rest: string | undefined, name: string) => {
    const value = rest ? "get-session" : (ids[name] ?? `${name}_matrix`);
    params[name] = value;
    return value;
  });
  return { url, params };
}

const RANK: Record<Permission, number> = { public: -2, account: -1, read: 0, write: 1, admin: 2, owner: 3 };
const ACTOR_RANK: Record<string, number> = { viewer: 0, readToken: 0, member: 1, adminOfB: -1 };

async function callOnce(actorName: string, c: RouteCase) {
  const actor = actors[actorName] as TestBrowser;
  const { url, params } = fillParams(c.path);
  const abort = new AbortController();
  const res = await actor.call(c.handler, `${url}`, {
    method: c.method,
    params,
    ...(c.method === "GET" ? {} : { body: {} }),
    signal: abort.signal,
  });
  // streams (SSE, downloads) are read up to 64 KB, then cut
  let text = "";
  if (res.body) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const deadline = new Promise<null>((r) => setTimeout(() => r(null), 1500));
    while (text.length < 65_536) {
      const chunk = await Promise.race([reader.read(), deadline]);
      if (!chunk || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    abort.abort();
    await reader.cancel().catch(() => {});
  }
  // an account-level action may switch the actor's workspace: put them back
  for (const [userId, home] of Object.entries(homes))
    await db.user.update({ where: { id: userId }, data: { workspaceId: home } });
  return { status: res.status, text };
}

describe("route permission matrix", () => {
  it("finds route handlers, each declaring a permission", () => {
    expect(cases.length).toBeGreaterThan(40);
    console.log(`[matrix] ${cases.length} handlers in ${new Set(cases.map((c) => c.file)).size} route files`);
  });

  it("leaks nothing across workspaces and allows no write without the role", {
    timeout: 600_000,
  }, async () => {
    const leaks: string[] = [];
    let checks = 0;
    for (const c of cases) {
      if (c.permission === "public") continue;
      for (const actorName of [
        "anonymous",
        "expiredToken",
        "revokedToken",
        "viewer",
        "readToken",
        "member",
        "adminOfB",
      ]) {
        const { status, text } = await callOnce(actorName, c);
        checks++;
        const where = `${c.method} ${c.path} as ${actorName} → ${status}`;
        if (["anonymous", "expiredToken", "revokedToken"].includes(actorName)) {
          if (status !== 401) leaks.push(`${where} (expected 401)`);
          continue;
        }
        if (actorName === "adminOfB") {
          if (text.includes(SECRET_MARK)) leaks.push(`${where} shows workspace A's rows`);
          const touchesA = /\[(runId|datasetId|versionId|modelId|jobId|artifactId|userId|workspaceId)\]/.test(
            c.path,
          );
          if (touchesA && status >= 200 && status < 300) leaks.push(`${where} answered for workspace A's id`);
          continue;
        }
        const rank = ACTOR_RANK[actorName] as number;
        if (RANK[c.permission] > rank && status !== 403 && status !== 404)
          leaks.push(`${where} (needs ${c.permission})`);
        // a member may not change a row someone else created (the run here is the owner's)
        const isOwnershipRule = status === 403 && text.includes("only its creator or an admin");
        if (
          RANK[c.permission] <= rank &&
          (status === 401 || status === 403) &&
          c.permission !== "account" &&
          !isOwnershipRule
        )
          leaks.push(`${where} refused an allowed caller (${c.permission})`);
      }
    }
    console.log(
      `[matrix] ${checks} checks (${cases.length} handlers × 7 callers, public ones skipped), ${leaks.length} leaks`,
    );
    expect(leaks).toEqual([]);
  });
});
