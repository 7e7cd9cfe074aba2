import { randomBytes } from "node:crypto";
import { isIP, connect as netConnect, type Socket } from "node:net";
import { hostname } from "node:os";
import { type TLSSocket, connect as tlsConnect } from "node:tls";

/**
 * A minimal SMTP client (RFC 5321): EHLO, STARTTLS when offered, AUTH PLAIN, one message. Enough
 * for password-reset mail through the team's relay; no dependency. `smtps://` connects with TLS
 * (port 465); `smtp://` (port 587 by default) upgrades with STARTTLS when the server offers it.
 */
export interface SmtpSettings {
  /** smtp://user:pass@host:587 or smtps://user:pass@host:465 */
  url: string;
  from: string;
  /** for tests against a server with a self-signed certificate */
  rejectUnauthorized?: boolean;
  timeoutMs?: number;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export class SmtpError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = "SmtpError";
  }
}

/** Reads SMTP replies (a code, then `-` for more lines or a space for the last one). */
class ReplyReader {
  private buffer = "";
  private waiting: ((reply: { code: number; text: string } | Error) => void) | null = null;
  private replies: ({ code: number; text: string } | Error)[] = [];
  private lines: string[] = [];

  attach(socket: Socket | TLSSocket) {
    // buffers, not setEncoding: a STARTTLS upgrade wraps this same socket
    socket.on("data", (chunk: Buffer) => this.feed(chunk.toString("latin1")));
    socket.on("error", (e) => this.push(e));
    socket.on("close", () => this.push(new SmtpError("the mail server closed the connection")));
  }

  private feed(chunk: string) {
    this.buffer += chunk;
    for (let i = this.buffer.indexOf("\r\n"); i >= 0; i = this.buffer.indexOf("\r\n")) {
      const line = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      this.lines.push(line.slice(4));
      if (line[3] !== "-") {
        this.push({ code: Number(line.slice(0, 3)), text: this.lines.join("\n") });
        this.lines = [];
      }
    }
  }

  private push(reply: { code: number; text: string } | Error) {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(reply);
    } else this.replies.push(reply);
  }

  next(timeoutMs: number): Promise<{ code: number; text: string }> {
    const queued = this.replies.shift();
    if (queued) return queued instanceof Error ? Promise.reject(queued) : Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new SmtpError(`the mail server did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = (r) => {
        clearTimeout(timer);
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
    });
  }
}

const headerSafe = (s: string) => s.replace(/[\r\n]+/g, " ");

/** The message as sent: headers, a blank line, the body with dot-stuffing and CRLF line ends. */
export function formatMessage(from: string, msg: MailMessage, domain: string): string {
  const body = msg.text
    .replace(/\r?\n/g, "\r\n")
    .split("\r\n")
    .map((l) => (l.startsWith(".") ? `.${l}` : l))
    .join("\r\n");
  return [
    `From: ${headerSafe(from)}`,
    `To: ${headerSafe(msg.to)}`,
    `Subject: ${headerSafe(msg.subject)}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${randomBytes(12).toString("hex")}@${domain}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    body,
  ].join("\r\n");
}

const address = (s: string) => /<([^>]+)>/.exec(s)?.[1] ?? s.trim();

export async function sendMail(settings: SmtpSettings, msg: MailMessage): Promise<void> {
  const url = new URL(settings.url);
  const isImplicitTls = url.protocol === "smtps:";
  if (!isImplicitTls && url.protocol !== "smtp:")
    throw new SmtpError(`SMTP_URL must start with smtp:// or smtps:// (got ${url.protocol})`);
  const host = url.hostname;
  const port = Number(url.port || (isImplicitTls ? 465 : 587));
  const timeoutMs = settings.timeoutMs ?? 15_000;
  const tlsOptions = {
    ...(isIP(host) ? {} : { servername: host }),
    rejectUnauthorized: settings.rejectUnauthorized ?? true,
  };

  let socket: Socket | TLSSocket = await new Promise<Socket | TLSSocket>((resolve, reject) => {
    const s = isImplicitTls
      ? tlsConnect({ host, port, ...tlsOptions }, () => resolve(s))
      : netConnect({ host, port }, () => resolve(s));
    s.once("error", reject);
    s.setTimeout(timeoutMs, () => s.destroy(new SmtpError(`no answer from ${host}:${port}`)));
  });
  let reader = new ReplyReader();
  reader.attach(socket);
  const expect = async (codes: number[], what: string) => {
    const reply = await reader.next(timeoutMs);
    if (!codes.includes(reply.code))
      throw new SmtpError(`${what}: the mail server answered ${reply.code} ${reply.text}`, reply.code);
    return reply;
  };
  const command = async (line: string, codes: number[], what = line.split(" ")[0] ?? line) => {
    socket.write(`${line}\r\n`);
    return expect(codes, what);
  };
  const domain = hostname() || "localhost";
  try {
    await expect([220], "greeting");
    let ehlo = await command(`EHLO ${domain}`, [250]);
    if (!isImplicitTls && /^STARTTLS$/im.test(ehlo.text)) {
      await command("STARTTLS", [220]);
      socket.removeAllListeners("data");
      socket = await new Promise<TLSSocket>((resolve, reject) => {
        const s = tlsConnect({ socket: socket as Socket, ...tlsOptions }, () => resolve(s));
        s.once("error", reject);
      });
      reader = new ReplyReader();
      reader.attach(socket);
      ehlo = await command(`EHLO ${domain}`, [250]);
    }
    if (url.username) {
      const user = decodeURIComponent(url.username);
      const pass = decodeURIComponent(url.password);
      const plain = Buffer.from(`\0${user}\0${pass}`).toString("base64");
      await command(`AUTH PLAIN ${plain}`, [235], "AUTH");
    }
    await command(`MAIL FROM:<${address(settings.from)}>`, [250], "MAIL FROM");
    await command(`RCPT TO:<${address(msg.to)}>`, [250, 251], "RCPT TO");
    await command("DATA", [354]);
    await command(`${formatMessage(settings.from, msg, domain)}\r\n.`, [250], "message");
    socket.write("QUIT\r\n");
  } finally {
    socket.end();
  }
}
