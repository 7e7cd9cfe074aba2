/** A JSON response carrying the Set-Cookie headers better-auth produced (a new session). */
export function jsonWithCookies(body: unknown, authHeaders: Headers, status = 200): Response {
  const headers = new Headers({ "content-type": "application/json", "cache-control": "no-store" });
  for (const cookie of authHeaders.getSetCookie()) headers.append("set-cookie", cookie);
  return new Response(JSON.stringify(body), { status, headers });
}
