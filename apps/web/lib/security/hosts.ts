// No "server-only" here: the proxy (proxy.ts) imports this too.

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The host name of a Host header value ("example.com:3000" → "example.com", "[::1]:3000" → "[::1]"). */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  return h.split(":")[0] ?? "";
}

export interface HostPolicy {
  /** DISTILLERY_ALLOWED_HOSTS: comma-separated names; "*" allows any (a proxy in front checks) */
  allowedHosts?: string;
  /** DISTILLERY_PUBLIC_URL */
  publicUrl?: string;
}

/**
 * DNS rebinding guard: the web answers only loopback names, the public URL's host and the
 * allowed hosts. A page served under an attacker's name would otherwise share its origin.
 */
export function isAllowedHost(host: string | null | undefined, policy: HostPolicy): boolean {
  if (!host) return false;
  const name = hostName(host);
  if (LOOPBACK.has(name) || name.endsWith(".localhost")) return true;
  const allowed = (policy.allowedHosts ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (allowed.includes("*")) return true;
  if (policy.publicUrl) {
    try {
      if (new URL(policy.publicUrl).hostname.toLowerCase() === name) return true;
    } catch {}
  }
  return allowed.includes(name);
}

/** Is this host a loopback name (the one-click local owner is offered only there)? */
export function isLoopbackHost(host: string | null | undefined): boolean {
  return !!host && LOOPBACK.has(hostName(host));
}
