import { type NextRequest, NextResponse } from "next/server";
import { isAllowedHost } from "@/lib/security/hosts.ts";
import {
  BASE_SECURITY_HEADERS,
  contentSecurityPolicy,
  crossSiteReason,
  isPublicPage,
  undecodablePathReason,
} from "@/lib/security/policy.ts";

// The proxy runs before every route and page. It reads the three settings it needs from the
// environment itself (lib/server/env.ts is server-only and parses them the same way).
const policy = {
  allowedHosts: process.env.DISTILLERY_ALLOWED_HOSTS,
  publicUrl: process.env.DISTILLERY_PUBLIC_URL,
};
const isLocalAuth = process.env.DISTILLERY_AUTH === "local";

function problem(
  status: number,
  title: string,
  detail: string,
  extra: Record<string, string> = {},
): NextResponse {
  return NextResponse.json(
    { type: "about:blank", title, status, detail, ...extra },
    { status, headers: { "content-type": "application/problem+json", ...BASE_SECURITY_HEADERS } },
  );
}

function hasSessionCookie(req: NextRequest): boolean {
  return req.cookies.getAll().some((c) => c.name.endsWith("distillery.session_token"));
}

/** 400 for a path Next's router cannot decode (it would answer a plain-text 500); null otherwise. */
function undecodable(pathname: string): NextResponse | null {
  const reason = undecodablePathReason(pathname);
  if (!reason) return null;
  return problem(400, "bad request", reason, {
    type: "https://distillery.dev/problems/bad-request",
    code: "bad_request",
    instance: pathname,
  });
}

export function proxy(req: NextRequest) {
  const { pathname, search } = req.nextUrl;
  // API paths reach the proxy only when they hold a non-ASCII escape (see config.matcher): it checks
  // the encoding and nothing else (withRoute runs the host, Origin and session checks).
  if (pathname.startsWith("/api/") || pathname.startsWith("/v1/"))
    return undecodable(pathname) ?? NextResponse.next();

  const host = req.headers.get("host");
  if (!isAllowedHost(host, policy))
    return problem(
      403,
      "Forbidden",
      `this studio does not answer for host ${host ?? "(none)"}: add it to DISTILLERY_ALLOWED_HOSTS`,
    );
  const forged = crossSiteReason(req, policy);
  if (forged) return problem(403, "Forbidden", forged);
  const bad = undecodable(pathname);
  if (bad) return bad;

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
  matcher: [
    // API routes are not matched: Next buffers a body the proxy sees and cuts it at
    // proxyClientMaxBodySize (10 MiB), which silently truncated dataset and model uploads. Every API
    // route runs the same host and Origin checks in withRoute (setRequestGuard in lib/server/actor.ts).
    "/((?!api/|v1/|_next/static|_next/image|favicon.ico).*)",
    // ...except a path holding a % that is not an ASCII escape (%00-%7F): only such a path can fail
    // to decode (%FF%FE), which Next's router answers with a plain-text 500 before any route runs.
    // No upload path holds one (/api/datasets/uploads, /api/models/uploads/<hex>/files?path=),
    // nor can one name a static route, so no large body is ever buffered here.
    "/(api|v1)/(.*%(?![0-7][0-9A-Fa-f]).*)",
  ],
};
