// Pure request checks shared by the proxy (proxy.ts) and its tests. No "server-only" (proxy bundle).
import { type HostPolicy, isAllowedHost } from "./hosts.ts";

export const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Pages a visitor without a session may open (everything else leads to sign-in). */
export function isPublicPage(pathname: string): boolean {
  return (
    pathname === "/sign-in" ||
    pathname === "/setup" ||
    pathname === "/reset-password" ||
    pathname === "/forgot-password" ||
    pathname.startsWith("/invite/")
  );
}

/**
 * Cross-site request forgery guard for unsafe methods: a browser names the page's origin in
 * `Origin` (and `Sec-Fetch-Site`); it must be this studio's own. Clients that send neither
 * (curl, the CLI with a Bearer token) carry no ambient cookie authority worth forging.
 */
export function crossSiteReason(
  req: { method: string; headers: Headers },
  policy: HostPolicy,
): string | null {
  if (!UNSAFE_METHODS.has(req.method)) return null;
  const origin = req.headers.get("origin");
  const host = req.headers.get("host");
  if (origin && origin !== "null") {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return "the Origin header is not a URL";
    }
    if (originHost.toLowerCase() !== host?.toLowerCase() || !isAllowedHost(originHost, policy))
      return `cross-site ${req.method} from ${origin} refused`;
    return null;
  }
  if (origin === "null") return `cross-site ${req.method} from an opaque origin refused`;
  const site = req.headers.get("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") return `cross-site ${req.method} (${site}) refused`;
  return null;
}

/** The Content-Security-Policy of every HTML page: scripts only from here and with this request's nonce. */
export function contentSecurityPolicy(nonce: string, isDev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${isDev ? " 'unsafe-eval'" : ""}`,
    // React and the chart library set style attributes; styles cannot run code
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * Why a request path cannot be decoded, or null when it can: a segment whose percent-encoding is
 * not UTF-8 (`%FF%FE`) or is cut short (`100%`). Next's router decodes dynamic params with
 * decodeURIComponent before any route code runs, throws on such a segment and answers a plain-text
 * 500 (its fallback /400 render finds no page), so the proxy refuses the request first.
 * Only a `%` that is not an ASCII escape (`%00`-`%7F`) can make decoding fail: the proxy's
 * API matcher looks for exactly that.
 */
export function undecodablePathReason(pathname: string): string | null {
  for (const segment of pathname.split("/")) {
    if (!segment.includes("%")) continue;
    try {
      decodeURIComponent(segment);
    } catch {
      const shown = segment.length > 80 ? `${segment.slice(0, 80)}…` : segment;
      return `the path segment "${shown}" is not percent-encoded UTF-8`;
    }
  }
  return null;
}

/** Headers every response carries (HTML and API alike). */
export const BASE_SECURITY_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "strict-origin-when-cross-origin",
  "X-Frame-Options": "DENY",
};
