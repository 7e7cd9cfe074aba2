import { describe, expect, it } from "vitest";
import { isAllowedHost, isLoopbackHost } from "./hosts.ts";
import { contentSecurityPolicy, crossSiteReason, isPublicPage } from "./policy.ts";

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
});
