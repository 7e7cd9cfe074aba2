import { afterEach, describe, expect, it } from "vitest";
import { listTeacherModels } from "./list-models.ts";
import { requestCompletion } from "./request-completion.ts";
import { checkTeacherHost, guardedLookup, isBlockedTeacherIp } from "./teacher-address.ts";
import { ZBaseUrl, ZSampling } from "./teacher-endpoint.ts";

const issue = (url: string) => {
  const r = ZBaseUrl.safeParse(url);
  return r.success ? null : r.error.issues[0]?.message;
};

afterEach(() => {
  delete process.env.DISTILLERY_TEACHER_ALLOW_LINK_LOCAL;
});

describe("teacher base URLs", () => {
  it("http(s) only; no user or password in the URL", () => {
    expect(issue("ftp://example.com/v1")).toMatch(/must be an http:\/\/ or https:\/\/ URL/);
    expect(issue("file:///etc/passwd")).toMatch(/http/);
    expect(issue("localhost:11434")).toMatch(/http/);
    expect(issue("not a url")).toMatch(/http/);
    expect(issue("https://user:sk-secret@api.example.com/v1")).toMatch(/put the key in the API key field/);
  });

  it("refuses link-local and cloud metadata addresses, in any spelling", () => {
    for (const url of [
      "http://169.254.169.254/latest/meta-data",
      "http://169.254.1.1:8000/v1",
      "http://2852039166/v1", // 169.254.169.254 as one number
      "http://0xa9.0xfe.0xa9.0xfe/v1",
      "http://[fe80::1]:8000/v1",
      "http://[::ffff:169.254.169.254]/v1",
      "http://[fd00:ec2::254]/v1",
      "http://metadata.google.internal/computeMetadata/v1",
      "http://METADATA.google.internal./v1",
    ])
      expect(issue(url), url).toMatch(/link-local \/ cloud metadata address/);
  });

  it("keeps loopback, private networks and public hosts (self-hosted teachers)", () => {
    for (const url of [
      "http://localhost:11434/v1",
      "http://127.0.0.1:8000/v1",
      "http://[::1]:8000/v1",
      "http://10.0.0.5:8000/v1",
      "http://192.168.1.20:30000/v1",
      "http://172.16.0.3/v1",
      "https://api.deepseek.com/v1",
    ])
      expect(issue(url), url).toBeNull();
  });

  it("DISTILLERY_TEACHER_ALLOW_LINK_LOCAL=1 lifts the rule", () => {
    process.env.DISTILLERY_TEACHER_ALLOW_LINK_LOCAL = "1";
    expect(issue("http://169.254.169.254/v1")).toBeNull();
    expect(isBlockedTeacherIp("169.254.169.254")).toBe(false);
  });

  it("requests never connect there, whatever the stored URL says, naming the teacher", async () => {
    const endpoint = {
      name: "meta",
      baseUrl: "http://169.254.169.254/v1",
      api: "openai" as const,
      model: "m",
    };
    const chat = await requestCompletion(endpoint, [{ role: "user", content: "hi" }], ZSampling.parse({}), {
      idleTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(chat).toMatchObject({ kind: "bad_request" });
    expect((chat as Error).message).toBe(
      'teacher "meta" refused: 169.254.169.254 is a link-local / cloud metadata address',
    );
    const models = await listTeacherModels(endpoint).catch((e: unknown) => e);
    expect((models as Error).message).toMatch(/^teacher "meta" refused: 169\.254\.169\.254 is a link-local/);
    await expect(checkTeacherHost("[fe80::1]")).rejects.toMatchObject({ code: "ETEACHERADDRESS" });
    await expect(checkTeacherHost("localhost")).resolves.toBeUndefined();
  });

  it("the lookup passes allowed names through, as dns.lookup answers", async () => {
    const one = await new Promise<unknown[]>((resolve, reject) =>
      guardedLookup("localhost", {}, (err, address, family) =>
        err ? reject(err) : resolve([address, family]),
      ),
    );
    expect(typeof one[0]).toBe("string");
    expect([4, 6]).toContain(one[1]);
    const all = await new Promise<unknown>((resolve, reject) =>
      guardedLookup("localhost", { all: true }, (err, address) => (err ? reject(err) : resolve(address))),
    );
    expect(Array.isArray(all)).toBe(true);
  });
});
