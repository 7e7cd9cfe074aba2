import { describe, expect, it } from "vitest";
import { isAllowedHost, isLoopbackHost } from "./hosts.ts";
import { contentSecurityPolicy, crossSiteReason, isPublicPage, undecodablePathReason } from "./policy.ts";

const req = (method: string, headers: Record<string, string>) => ({ method, headers: new Headers(headers) });
const policy = { allowedHosts: "studio.internal", publicUrl: "https://distillery.example.com" };

describe("request policy", () => {
  it("answers only loopback, the public URL's host and the allowed hosts (DNS rebinding)", () => {
    expect(isAllowedHost("localhost:3000", policy)).toBe(true);
    expect(isAllowedHost("127.0.0.1:3000", policy)).toBe(true);
    expect(isAllowedHost("[::1]:3000", policy)).toBe(true);
    expect(isAllowedHost("distillery.example.com", policy)).toBe(true);
    expect(isAllowedHost("studio.internal:8080", policy)).toBe(true);
    expect(isAllowedHost("attacker.example", policy)).toBe(false);
    expect(isAllowedHost("127.0.0.1.attacker.example", policy)).toBe(false);
    expect(isAllowedHost(null, policy)).toBe(false);
    expect(isAllowedHost("anything", { allowedHosts: "*" })).toBe(true);
    expect(isLoopbackHost("studio.internal")).toBe(false);
  });

  it("refuses unsafe requests from a foreign origin, text/plain or not", () => {
    const host = { host: "localhost:3000" };
    expect(
      crossSiteReason(
        req("POST", { ...host, origin: "https://evil.example", "content-type": "text/plain" }),
        policy,
      ),
    ).toMatch(/cross-site POST/);
    expect(crossSiteReason(req("POST", { ...host, origin: "null" }), policy)).toMatch(/opaque origin/);
    expect(crossSiteReason(req("DELETE", { ...host, "sec-fetch-site": "cross-site" }), policy)).toMatch(
      /cross-site DELETE/,
    );
    expect(crossSiteReason(req("POST", { ...host, origin: "http://localhost:3000" }), policy)).toBeNull();
    // no Origin and no Sec-Fetch-Site: a script or the CLI (its token is not an ambient credential)
    expect(crossSiteReason(req("POST", host), policy)).toBeNull();
    expect(crossSiteReason(req("GET", { ...host, origin: "https://evil.example" }), policy)).toBeNull();
  });

  it("sends a CSP without inline script and without framing", () => {
    const csp = contentSecurityPolicy("abc", false);
    expect(csp).toContain("script-src 'self' 'nonce-abc' 'strict-dynamic'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(isPublicPage("/invite/abc")).toBe(true);
    expect(isPublicPage("/runs")).toBe(false);
  });

  it("refuses a path whose percent-encoding is not UTF-8, and only such a path", () => {
    expect(undecodablePathReason("/api/runs/%FF%FE")).toMatch(/"%FF%FE" is not percent-encoded UTF-8/);
    expect(undecodablePathReason("/api/runs/%FF%FE/cancel")).toMatch(/%FF%FE/);
    expect(undecodablePathReason("/v1/models/%FF")).not.toBeNull();
    expect(undecodablePathReason("/api/datasets/100%")).not.toBeNull();
    expect(undecodablePathReason("/api/datasets/%E2%82")).not.toBeNull(); // a cut-short sequence
    expect(undecodablePathReason(`/api/runs/${"%FF".repeat(100)}`)).toMatch(/…" is not/);
    for (const ok of ["/api/runs/abc", "/api/runs/%00", "/api/runs/..%2F..%2Fetc", "/api/datasets/%E2%82%AC"])
      expect(undecodablePathReason(ok)).toBeNull();
  });

  it("the proxy's API matcher sees every path that cannot be decoded", async () => {
    // proxy.ts matches /api/ and /v1/ only where a % is not an ASCII escape (a body the proxy sees
    // is buffered and cut at 10 MiB, so uploads must never match); such a path always decodes.
    const { config } = await import("../../proxy.ts");
    const lookahead = "%(?![0-7][0-9A-Fa-f])";
    expect(config.matcher.some((m) => m.startsWith("/(api|v1)/") && m.includes(lookahead))).toBe(true);
    const matched = new RegExp(lookahead);
    const hex = (n: number) => `%${n.toString(16).toUpperCase().padStart(2, "0")}`;
    const samples = ["%", "%4", "%G0", "%e2%82%ac", "%C3%28", "a%7Fb", "%7f%80"];
    for (let a = 0; a < 256; a++) {
      samples.push(hex(a));
      for (const b of [0x00, 0x41, 0x7f, 0x80, 0x82, 0xbf, 0xc0, 0xff]) samples.push(hex(a) + hex(b));
    }
    for (const s of samples) {
      const path = `/api/runs/${s}/cancel`;
      if (undecodablePathReason(path)) expect(matched.test(path), path).toBe(true);
    }
    expect(matched.test("/api/datasets/uploads")).toBe(false);
    expect(matched.test("/api/runs/run%00x/cancel")).toBe(false);
  });
});
