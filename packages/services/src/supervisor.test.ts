import { afterAll, describe, expect, it } from "vitest";
import { findFreePort } from "./free-port.ts";
import { createSupervisor } from "./supervisor.ts";

// A tiny app: answers HTTP with its restart count and last exit (what the supervisor tells it).
const APP = `
const http = require("node:http");
http.createServer((req, res) => res.end(JSON.stringify({
  pid: process.pid,
  restarts: process.env.DISTILLERY_RESTARTS ?? "0",
  lastExit: process.env.DISTILLERY_LAST_EXIT ?? null,
}))).listen(Number(process.env.PORT), "127.0.0.1");
`;

async function ask(port: number): Promise<{ pid: number; restarts: string; lastExit: string | null } | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    return (await res.json()) as { pid: number; restarts: string; lastExit: string | null };
  } catch {
    return null;
  }
}

describe("supervisor", () => {
  const logs: string[] = [];
  const supervisor = createSupervisor((m) => logs.push(m));
  const stopped = supervisor.waitUntilStopped();
  afterAll(() => supervisor.stopAll());

  it("restarts an app killed with SIGKILL, reports it, and keeps the others serving", {
    timeout: 60_000,
  }, async () => {
    const [webPort, workerPort] = [await findFreePort(), await findFreePort()];
    supervisor.add("service", async () => {
      logs.push("service stopped");
    });
    const web = supervisor.spawnApp("web", process.execPath, ["-e", APP], {
      ...process.env,
      PORT: String(webPort),
    });
    const worker = supervisor.spawnApp("worker", process.execPath, ["-e", APP], {
      ...process.env,
      PORT: String(workerPort),
    });
    await expect.poll(() => ask(webPort), { timeout: 20_000 }).not.toBeNull();
    await expect.poll(() => ask(workerPort), { timeout: 20_000 }).not.toBeNull();
    const webPid = (await ask(webPort))?.pid;
    const firstWorkerPid = worker.child.pid ?? 0;

    process.kill(firstWorkerPid, "SIGKILL");
    // the web keeps answering while the worker is down and after it is back
    await expect.poll(async () => (await ask(workerPort))?.restarts, { timeout: 30_000 }).toBe("1");
    const back = await ask(workerPort);
    expect(back?.pid).not.toBe(firstWorkerPid);
    expect(back?.lastExit).toBe("SIGKILL");
    expect(worker.restarts).toBe(1);
    expect((await ask(webPort))?.pid).toBe(webPid);
    expect(web.restarts).toBe(0);
    expect(logs.join("\n")).toMatch(/worker exited \(SIGKILL\); restarting it/);

    // stopping stops apps first (newest first), then the services they use
    await supervisor.stopAll(0);
    expect(await stopped).toBe(0);
    expect(await ask(webPort)).toBeNull();
    expect(await ask(workerPort)).toBeNull();
    const order = logs.filter((l) => /stopped/.test(l));
    expect(order).toEqual([
      "[supervisor] stopped worker",
      "[supervisor] stopped web",
      "service stopped",
      "[supervisor] stopped service",
    ]);
  });

  it("backs off an app that keeps dying: 1 s, 2 s, 4 s, 8 s between restarts", {
    timeout: 60_000,
  }, async () => {
    const loopLogs: string[] = [];
    const loop = createSupervisor((m) => loopLogs.push(m));
    const loopStopped = loop.waitUntilStopped();
    const app = loop.spawnApp("crasher", process.execPath, ["-e", "process.exit(3)"], process.env);
    await expect.poll(() => app.restarts, { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(4);
    await loop.stopAll(0);
    expect(await loopStopped).toBe(0);
    const delays = loopLogs.flatMap((l) => {
      const m = /crasher exited \(exit code 3\); restarting it in ([\d.]+) s/.exec(l);
      return m ? [Number(m[1])] : [];
    });
    expect(delays.slice(0, 4)).toEqual([1, 2, 4, 8]);
    expect(app.lastExit?.reason).toBe("exit code 3");
  });
});
