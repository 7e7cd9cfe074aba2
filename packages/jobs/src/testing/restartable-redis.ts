import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * A redis-server of its own on a spare port, that a test stops and starts again (an outage).
 * No persistence: a restart comes back empty, as a Redis that lost its data would.
 */
export async function startRestartableRedis() {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    for (;;) {
      const { Redis } = await import("ioredis");
      const probe = new Redis(port, "127.0.0.1", {
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      probe.on("error", () => {});
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const stop = async () => {
    const c = child;
    // a process killed by a signal keeps exitCode null: stopping twice waited for ever
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await exited;
  };
  /** a hung Redis: connections stay open, nothing is answered (SIGSTOP; `stop` still works) */
  const pause = () => {
    child?.kill("SIGSTOP");
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, start, stop, pause };
}
