import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";

/**
 * Where a teacher may not be: link-local addresses (169.254.0.0/16, fe80::/10), which is where
 * clouds serve instance metadata and credentials (169.254.169.254, AWS's fd00:ec2::254), and
 * Google's metadata name. A URL aimed there is refused when it is saved and every time a request
 * connects (a name that resolves there, also after a DNS change). Loopback and private networks
 * stay allowed: a teacher on ollama at localhost or on vLLM in the LAN is the self-hosted case,
 * and only admins add teachers. DISTILLERY_TEACHER_ALLOW_LINK_LOCAL=1 lifts the rule.
 */
const blocked = new BlockList();
blocked.addSubnet("169.254.0.0", 16, "ipv4");
blocked.addSubnet("fe80::", 10, "ipv6");
blocked.addAddress("fd00:ec2::254", "ipv6");
const BLOCKED_NAMES = new Set(["metadata.google.internal", "metadata.goog", "metadata"]);

const isAllowedEverywhere = () => process.env.DISTILLERY_TEACHER_ALLOW_LINK_LOCAL === "1";

/** An IP literal (IPv4-mapped IPv6 included) that a teacher may not be at. */
export function isBlockedTeacherIp(address: string): boolean {
  if (isAllowedEverywhere()) return false;
  const ip = address.replace(/^\[|\]$/g, "");
  const family = isIP(ip);
  if (family === 0) return false;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped?.[1]) return blocked.check(mapped[1], "ipv4");
    return blocked.check(ip, "ipv6");
  }
  return blocked.check(ip, "ipv4");
}

/** Why a base URL's host is refused (a sentence for the field), or null. */
export function teacherHostProblem(hostname: string): string | null {
  if (isAllowedEverywhere()) return null;
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (BLOCKED_NAMES.has(host) || isBlockedTeacherIp(host))
    return `${hostname} is a link-local / cloud metadata address, not a teacher`;
  return null;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * dns.lookup for teacher requests: a name that resolves to a refused address fails to connect
 * (code ETEACHERADDRESS), so a DNS change after the URL was saved cannot aim requests there.
 */
export function guardedLookup(hostname: string, options: object, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, "");
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => isBlockedTeacherIp(a.address));
    if (bad) {
      const e: NodeJS.ErrnoException = new Error(
        `${hostname} resolves to ${bad.address}, a link-local / cloud metadata address`,
      );
      e.code = "ETEACHERADDRESS";
      return callback(e, "");
    }
    if ((options as { all?: boolean }).all) return callback(null, list);
    const first = list[0];
    if (!first)
      return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "");
    callback(null, first.address, first.family);
  });
}

/** The addresses `hostname` resolves to now, refused as guardedLookup refuses them. */
export function checkTeacherHost(hostname: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const literal = hostname.replace(/^\[|\]$/g, "");
    if (isIP(literal)) {
      return isBlockedTeacherIp(literal)
        ? reject(
            Object.assign(new Error(`${hostname} is a link-local / cloud metadata address`), {
              code: "ETEACHERADDRESS",
            }),
          )
        : resolve();
    }
    guardedLookup(hostname, { all: true }, (err) => (err ? reject(err) : resolve()));
  });
}
