import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TLSSocket } from "node:tls";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sendMail } from "./mailer.ts";

vi.mock("server-only", () => ({}));

/**
 * A small SMTP server on a real socket, enough to receive one message: it checks AUTH PLAIN,
 * offers STARTTLS when given a certificate, refuses recipients at refused.example.
 */
interface Received {
  authUser?: string;
  authPass?: string;
  from?: string;
  to?: string;
  data?: string;
  isTls: boolean;
}
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function fakeSmtp(opts: { tls?: { key: string; cert: string }; password?: string } = {}) {
  const received: Received[] = [];
  const server = createServer((raw: Socket) => {
    let socket: Socket | TLSSocket = raw;
    const got: Received = { isTls: false };
    received.push(got);
    let buffer = "";
    let inData = false;
    const send = (s: string) => socket.write(`${s}\r\n`);
    const onLine = (line: string) => {
      if (inData) {
        if (line === ".") {
          inData = false;
          send("250 queued");
        } else got.data = `${got.data ?? ""}${line.startsWith("..") ? line.slice(1) : line}\n`;
        return;
      }
      const [verb = "", ...rest] = line.split(" ");
      const arg = rest.join(" ");
      switch (verb.toUpperCase()) {
        case "EHLO":
          if (opts.tls && !got.isTls) send("250-fake.test\r\n250-AUTH PLAIN\r\n250 STARTTLS");
          else send("250-fake.test\r\n250 AUTH PLAIN");
          break;
        case "STARTTLS": {
          send("220 go ahead");
          raw.removeAllListeners("data");
          socket = new TLSSocket(raw, { isServer: true, key: opts.tls?.key, cert: opts.tls?.cert });
          got.isTls = true;
          socket.on("data", (c: Buffer) => onData(c.toString("latin1")));
          break;
        }
        case "AUTH": {
          const [, user, pass] = Buffer.from(arg.split(" ")[1] ?? "", "base64")
            .toString()
            .split("\0");
          got.authUser = user;
          got.authPass = pass;
          send(pass === (opts.password ?? "hunter2") ? "235 ok" : "535 bad credentials");
          break;
        }
        case "MAIL":
          got.from = arg;
          send("250 ok");
          break;
        case "RCPT":
          got.to = arg;
          send(arg.includes("@refused.example") ? "550 no such mailbox" : "250 ok");
          break;
        case "DATA":
          inData = true;
          send("354 end with .");
          break;
        case "QUIT":
          send("221 bye");
          socket.end();
          break;
        default:
          send("502 unknown");
      }
    };
    const onData = (chunk: string) => {
      buffer += chunk;
      for (let i = buffer.indexOf("\r\n"); i >= 0; i = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        onLine(line);
      }
    };
    raw.on("data", (c: Buffer) => onData(c.toString("latin1")));
    raw.on("error", () => {});
    send("220 fake.test ESMTP");
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { port, received };
}

const MESSAGE = {
  to: "Olive <olive@example.com>",
  subject: "Reset your password",
  text: "Open this link:\nhttp://localhost:3000/api/auth/reset-password/tok?x=1\n.a line that starts with a dot\n",
};

describe("sendMail (SMTP)", () => {
  it("authenticates with AUTH PLAIN and delivers one message, dot-stuffed", async () => {
    const { port, received } = await fakeSmtp();
    await sendMail(
      { url: `smtp://robot%40x:hunter2@127.0.0.1:${port}`, from: "Distillery <d@x.test>" },
      MESSAGE,
    );
    const [got] = received;
    expect(got).toMatchObject({ authUser: "robot@x", authPass: "hunter2", isTls: false });
    expect(got?.from).toBe("FROM:<d@x.test>");
    expect(got?.to).toBe("TO:<olive@example.com>");
    expect(got?.data).toContain("Subject: Reset your password\n");
    expect(got?.data).toContain("To: Olive <olive@example.com>\n");
    expect(got?.data).toContain("\nhttp://localhost:3000/api/auth/reset-password/tok?x=1\n");
    expect(got?.data).toContain("\n.a line that starts with a dot\n");
  });

  it("upgrades with STARTTLS when the server offers it, before sending the password", async () => {
    const dir = mkdtempSync(join(tmpdir(), "smtp-tls-"));
    const made = spawnSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=127.0.0.1",
      "-days",
      "1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ]);
    expect(made.status, String(made.stderr)).toBe(0);
    const tls = {
      key: readFileSync(join(dir, "key.pem"), "utf8"),
      cert: readFileSync(join(dir, "cert.pem"), "utf8"),
    };
    const { port, received } = await fakeSmtp({ tls });
    await sendMail(
      { url: `smtp://robot:hunter2@127.0.0.1:${port}`, from: "d@x.test", rejectUnauthorized: false },
      MESSAGE,
    );
    expect(received[0]).toMatchObject({ isTls: true, authPass: "hunter2" });
    expect(received[0]?.data).toContain("reset-password/tok");
    // with certificate checks on, a self-signed relay is refused before anything is sent
    const strict = await fakeSmtp({ tls });
    await expect(
      sendMail({ url: `smtp://robot:hunter2@127.0.0.1:${strict.port}`, from: "d@x.test" }, MESSAGE),
    ).rejects.toThrow(/self[- ]signed/i);
    expect(strict.received[0]?.authPass).toBeUndefined();
  });

  it("names the step the server refused", async () => {
    const { port } = await fakeSmtp();
    await expect(
      sendMail({ url: `smtp://robot:wrong@127.0.0.1:${port}`, from: "d@x.test" }, MESSAGE),
    ).rejects.toThrow(/AUTH: the mail server answered 535/);
    await expect(
      sendMail(
        { url: `smtp://robot:hunter2@127.0.0.1:${port}`, from: "d@x.test" },
        { ...MESSAGE, to: "x@refused.example" },
      ),
    ).rejects.toThrow(/RCPT TO: the mail server answered 550/);
  });
});

describe("password reset delivery", { timeout: 60_000 }, () => {
  it("mails the link when SMTP is set; logs it when not, or when the relay refuses", async () => {
    const { deliverResetLink } = await import("./auth.ts");
    const { port, received } = await fakeSmtp();
    const logged: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...a) => void logged.push(a.join(" ")));
    const err = vi.spyOn(console, "error").mockImplementation((...a) => void logged.push(a.join(" ")));
    const link = "http://localhost:3000/api/auth/reset-password/one-time?callbackURL=%2Freset-password";
    const smtp = { SMTP_URL: `smtp://robot:hunter2@127.0.0.1:${port}`, SMTP_FROM: undefined };
    try {
      expect(
        await deliverResetLink({ ...smtp, DISTILLERY_PUBLIC_URL: undefined }, "olive@example.com", link),
      ).toBe("mailed");
      expect(received[0]?.data).toContain(link);
      expect(received[0]?.from).toBe("FROM:<distillery@localhost>");
      expect(logged.join("\n")).not.toContain(link);

      expect(
        await deliverResetLink({ ...smtp, DISTILLERY_PUBLIC_URL: undefined }, "x@refused.example", link),
      ).toBe("logged");
      expect(logged.join("\n")).toMatch(/could not mail the password reset for x@refused\.example: .*550/);
      expect(logged.at(-1)).toContain(link);

      logged.length = 0;
      expect(
        await deliverResetLink(
          { SMTP_URL: undefined, SMTP_FROM: undefined, DISTILLERY_PUBLIC_URL: undefined },
          "olive@example.com",
          link,
        ),
      ).toBe("logged");
      expect(logged).toEqual([
        `[auth] password reset for olive@example.com: ${link}  (valid 1 hour, single use)`,
      ]);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  });
});
