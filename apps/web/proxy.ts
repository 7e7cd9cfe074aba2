import { type NextRequest, NextResponse } from "next/server";
import { isAllowedHost } from "@/lib/security/hosts.ts";
import {
  BASE_SECURITY_HEADERS,
  contentSecurityPolicy,
  crossSiteReason,
  isPublicPage,
} from "@/lib/security/policy.ts";

// The proxy runs before every route and page. It reads the three settings it needs from the
// environment itself (lib/server/env.ts is server-only and parses them the same way).
const policy = {
  allowedHosts: process.env.DISTILLERY_ALLOWED_HOSTS,
  publicUrl: process.env.DISTILLERY_PUBLIC_URL,
};
const isLocalAuth = process.env.DISTILLERY_AUTH === "local";

function problem(status: number, title: string, detail: string): NextResponse {
  return NextResponse.json(
    { type: "about:blank", title, status, detail },
    { status, headers: { "content-type": "application/problem+json", ...BASE_SECURITY_HEADERS } },
  );
}

function hasSessionCookie(req: NextRequest): boolean {
  return req.cookies.getAll().some((c) => c.name.endsWith("distillery.session_token"));
}

export function proxy(req: NextRequest) {
  const host = req.headers.get("host");
  if (!isAllowedHost(host, policy))
    return problem(
      403,
      "Forbidden",
      `this studio does not answer for host ${host ?? "(none)"}: add it to DISTILLERY_ALLOWED_HOSTS`,
    );
  const forged = crossSiteReason(req, policy);
  if (forged) return problem(403, "Forbidden", forged);

  const { pathname, search } = req.nextUrl;
  if (!isLocalAuth && !isPublicPage(pathname) && !hasSessionCookie(req)) {
    const to = new URL("/sign-in", req.url);
    if (pathname !== "/") to.searchParams.set("next", pathname + search);
    return NextResponse.redirect(to);
  }
  const nonce = Buffer.from(crypto.randomUUID()).toString("base64");
  const csp = contentSecurityPolicy(nonce, process.env.NODE_ENV === "development");
  const requestHeaders = new Headers(req.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("Content-Security-Policy", csp);
  const res = NextResponse.next({ request: { headers: requestHeaders } });
  res.headers.set("Content-Security-Policy", csp);
  for (const [k, v] of Object.entries(BASE_SECURITY_HEADERS)) res.headers.set(k, v);
  return res;
}

export const config = {
  // API routes are not matched: Next buffers a body the proxy sees and cuts it at
  // proxyClientMaxBodySize (10 MiB), which silently truncated dataset and model uploads. Every API
  // route runs the same host and Origin checks in withRoute (setRequestGuard in lib/server/actor.ts).
  matcher: ["/((?!api/|v1/|_next/static|_next/image|favicon.ico).*)"],
};
